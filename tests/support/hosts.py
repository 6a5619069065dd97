"""Other hosts on this machine, for tests: processes in their own UTS and PID namespaces — a hostname of their
own, process ids counted from 1, so they repeat from host to host — sharing the network namespace, so they reach
the bench's Redis and MariaDB at 127.0.0.1 exactly as a second machine of the bench would. Unprivileged: the
bench user is root only inside its own user namespace (`unshare --user --map-root-user`).

A host's init (pid 1 in its namespace) is a shell that names the host, starts each program with its own log,
passes SIGTERM on to them and waits. SIGKILL to that init takes every process of the host down at once, as a
machine that loses power or is killed by its hypervisor."""

import shlex
import signal
import subprocess
import uuid

import psutil
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.transport import workers as rq_workers
from tests.support import harness

UNSHARE = ["unshare", "--user", "--map-root-user", "--uts", "--pid", "--fork", "--mount-proc"]


class Host:
	def __init__(self, label: str, programs: dict[str, list[str]]):
		self.hostname = f"aj-{label}-{uuid.uuid4().hex[:6]}"  # unique: a killed host's workers stay listed
		self.logs = {name: harness.ARTIFACTS / "logs" / f"{self.hostname}-{name}.log" for name in programs}
		lines = [
			f"hostname {self.hostname}",
			"pids=",
			"trap 'kill -TERM $pids 2>/dev/null; wait' TERM",
			*(
				f'{shlex.join(argv)} >{shlex.quote(str(self.logs[name]))} 2>&1 & pids="$pids $!"'
				for name, argv in programs.items()
			),
			"wait",
		]
		self.process = harness.Process(f"host-{label}", [*UNSHARE, "sh", "-c", "\n".join(lines)])
		self.init_pid = harness.wait_for(self._init, timeout=10, message=f"the init of {self.hostname}")

	def _init(self) -> int | None:
		self.process.check()
		children = psutil.Process(self.process.pid).children()
		return children[0].pid if children else None

	def workers(self, alive_only: bool = True) -> list[rq_workers.WorkerFacts]:
		"""This host's RQ workers (by the hostname RQ recorded for them)."""
		return [
			w
			for w in rq_workers.gather(get_redis_conn())
			if w.hostname == self.hostname and (w.alive or not alive_only)
		]

	def wait_for_workers(self, count: int, timeout: float = 90) -> list[rq_workers.WorkerFacts]:
		def up():
			self.process.check()
			found = self.workers()
			return found if len(found) == count else None

		return harness.wait_for(
			up, timeout=timeout, interval=0.3, message=f"{count} workers on {self.hostname}"
		)

	def log(self, name: str) -> str:
		path = self.logs[name]
		return path.read_text(errors="replace") if path.exists() else ""

	def kill(self) -> None:
		"""SIGKILL the host's init: the kernel kills every other process of the namespace with it."""
		psutil.Process(self.init_pid).send_signal(signal.SIGKILL)
		self.process.popen.wait(30)

	def stop(self, timeout: float = 30) -> None:
		"""SIGTERM to the init (passed on to the programs), SIGKILL after `timeout`."""
		if self.process.alive():
			try:
				psutil.Process(self.init_pid).send_signal(signal.SIGTERM)
				self.process.popen.wait(timeout)
			except (psutil.NoSuchProcess, subprocess.TimeoutExpired):
				pass
		if self.process.alive():
			self.kill()
		self.process.stop()


def worker_host(label: str, kind: str, queues: str, workers: int = 2, stager: bool = True) -> Host:
	"""A host running `workers` workers of this kind on these queues and, optionally, the stager."""
	programs = {f"worker-{i + 1}": harness.worker_argv(queues, kind) for i in range(workers)}
	if stager:
		programs["stager"] = harness.frappe_cli(
			"async-jobs", "stager", "--interval", "0.5", "--lifeline-interval", "1"
		)
	host = Host(label, programs)
	host.wait_for_workers(workers)
	return host
