"""Real processes for tests: RQ workers, the scheduler, the web server and socketio, plus a deadline wait.

Everything here starts the bench's own programs (the same ones `bench start` runs) as child processes in their
own process groups, logs them under artifacts/logs and stops them on teardown.
"""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")

BENCH = Path(sys.prefix).resolve().parent  # the bench's env/bin/python runs the tests
SITES = BENCH / "sites"
APP_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("ASYNC_JOBS_ARTIFACTS") or APP_ROOT / "artifacts")
COMMON_CONFIG = json.loads((SITES / "common_site_config.json").read_text())


def _default_site() -> str:
	current = SITES / "currentsite.txt"
	return current.read_text().strip() if current.exists() else "async-jobs.localhost"


SITE = os.environ.get("ASYNC_JOBS_SITE") or _default_site()
WEB_PORT = int(COMMON_CONFIG.get("webserver_port") or 8000)
SOCKETIO_PORT = int(COMMON_CONFIG.get("socketio_port") or 9000)
BASE_URL = f"http://{SITE}:{WEB_PORT}"
ADMIN_PASSWORD = os.environ.get("ASYNC_JOBS_ADMIN_PASSWORD", "admin")


def wait_for(
	condition: Callable[[], T], timeout: float = 30, interval: float = 0.1, message: str = "condition"
) -> T:
	"""Call `condition` until it returns something truthy and return that; fail after `timeout` seconds."""
	deadline = time.monotonic() + timeout
	last = None
	while time.monotonic() < deadline:
		last = condition()
		if last:
			return last
		time.sleep(interval)
	raise TimeoutError(f"waited {timeout}s for {message}; last value: {last!r}")


def set_common_config(key: str, value) -> None:
	"""Set (value None: remove) a key of the bench's common_site_config.json, as the processes tests start read it."""
	path = SITES / "common_site_config.json"
	config = json.loads(path.read_text())
	if value is None:
		config.pop(key, None)
	else:
		config[key] = value
	path.write_text(json.dumps(config, indent=1))


def frappe_cli(*args: str) -> list[str]:
	"""The command line of `bench <args>` for a Frappe command, run with the bench's Python."""
	return [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", *args]


def run_bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
	"""Run a Frappe bench command to completion in the sites folder; its output is returned, not printed."""
	return subprocess.run(
		frappe_cli(*args), cwd=SITES, capture_output=True, text=True, timeout=timeout, env=_child_env()
	)


def _child_env(**extra: str) -> dict[str, str]:
	return {**os.environ, **extra}


_counter = itertools.count(1)


class Process:
	"""One long-running child process in its own process group, logged to artifacts/logs/<name>-<n>.log."""

	def __init__(self, name: str, argv: list[str], cwd: Path = SITES, **env: str):
		logs = ARTIFACTS / "logs"
		logs.mkdir(parents=True, exist_ok=True)
		self.name = name
		self.rq_name: str | None = None  # a worker's name in RQ (start_worker sets it)
		self.log_path = logs / f"{name}-{next(_counter)}.log"
		self._log = open(self.log_path, "ab")
		self.popen = subprocess.Popen(
			argv,
			cwd=cwd,
			env=_child_env(**env),
			stdout=self._log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)

	@property
	def pid(self) -> int:
		return self.popen.pid

	def alive(self) -> bool:
		return self.popen.poll() is None

	def check(self) -> bool:
		"""True while running; a process that died is an error with the end of its log."""
		if not self.alive():
			raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
		return True

	def log_tail(self, lines: int = 40) -> str:
		return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

	def signal(self, sig: int) -> None:
		os.killpg(self.popen.pid, sig)

	def stop(self, timeout: float = 15) -> None:
		"""SIGTERM the group, then SIGKILL what is left after `timeout`, descendants in sessions of their own
		included (RQ's work horses call setsid)."""
		try:
			descendants = psutil.Process(self.popen.pid).children(recursive=True)
		except psutil.NoSuchProcess:
			descendants = []
		if self.alive():
			try:
				self.signal(signal.SIGTERM)
				self.popen.wait(timeout)
			except subprocess.TimeoutExpired:
				pass
		try:
			os.killpg(self.popen.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass
		for child in descendants:
			try:
				child.kill()
			except psutil.NoSuchProcess:
				pass
		self.popen.wait(5)
		self._log.close()


WORKER_KIND = (
	os.environ.get("ASYNC_JOBS_TEST_WORKER") or "bench"
)  # bench: `bench worker`; fast: the fast worker


def worker_argv(queues: str, kind: str | None = None, *options: str) -> list[str]:
	"""`bench worker`, or with kind "fast" `bench async-jobs worker` (ASYNC_JOBS_TEST_WORKER picks the default)."""
	if (kind or WORKER_KIND) == "fast":
		return frappe_cli("async-jobs", "worker", "--queue", queues, *options)
	if (kind or WORKER_KIND) != "bench":
		raise ValueError(f"ASYNC_JOBS_TEST_WORKER must be bench or fast, not {kind or WORKER_KIND!r}")
	return frappe_cli("worker", "--queue", queues, *options)


def start_worker(
	queues: str = "short,default,long", timeout: float = 60, kind: str | None = None, options: tuple = ()
) -> Process:
	"""Start a worker for these queues (`bench worker`, or the fast worker: see WORKER_KIND) and return once RQ
	lists it as a live worker."""
	from frappe.utils.background_jobs import get_redis_conn
	from rq import Worker

	proc = Process(f"{kind or WORKER_KIND}-worker", worker_argv(queues, kind, *options))
	here = socket.gethostname()

	def registered():  # pids repeat across hosts: RQ's (hostname, pid) of a worker tells which one is ours
		proc.check()
		workers = Worker.all(connection=get_redis_conn())
		return next((w.name for w in workers if (w.hostname, w.pid) == (here, proc.pid)), None)

	proc.rq_name = wait_for(
		registered, timeout=timeout, interval=0.2, message="the worker to register with RQ"
	)
	return proc


def start_scheduler() -> Process:
	"""Start `bench schedule` (the process that enqueues due scheduled jobs every tick)."""
	return Process("scheduler", frappe_cli("schedule"))


def _port_open(port: int) -> bool:
	with socket.socket() as s:
		s.settimeout(0.5)
		return s.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
	try:
		with urllib.request.urlopen(url, timeout=5) as response:
			return response.status == 200
	except OSError:
		return False


def start_web() -> Process:
	"""`bench serve` with DEV_SERVER=1 (as `bench start` sets it: the Desk then opens socket.io on its own port)."""
	if _port_open(WEB_PORT):
		raise RuntimeError(f"port {WEB_PORT} is taken: stop whatever serves it before the browser tests")
	proc = Process("web", frappe_cli("serve", "--port", str(WEB_PORT), "--noreload"), DEV_SERVER="1")
	wait_for(
		lambda: proc.check() and _http_ok(f"{BASE_URL}/api/method/ping"),
		timeout=90,
		interval=0.5,
		message=f"the web server at {BASE_URL}",
	)
	return proc


def start_socketio() -> Process:
	"""The node realtime server (`bench socketio`), fed by Redis and authenticating against the web server."""
	if _port_open(SOCKETIO_PORT):
		raise RuntimeError(f"port {SOCKETIO_PORT} is taken: stop whatever serves it before the browser tests")
	node = os.environ.get("NODE") or "node"
	proc = Process("socketio", [node, str(BENCH / "apps/frappe/socketio.js")], cwd=BENCH)
	wait_for(lambda: proc.check() and _port_open(SOCKETIO_PORT), timeout=30, message="the socketio server")
	return proc
