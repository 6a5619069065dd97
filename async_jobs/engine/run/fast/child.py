"""The long-lived child of the fast worker: performs many RQ jobs in one process, resetting state between them.

The supervisor (worker.FastWorker) dequeues a job and writes `<job id> <queue>` on the child's socket; the child
performs it exactly as RQ's work horse does (Worker.perform_job: registries, status, result, failure callbacks,
the SIGALRM timeout), so Frappe's execute_job runs it as under `bench worker`: frappe.init/connect, the enqueuing
user, before_job/after_job hooks, commit or rollback and Error Log, frappe.destroy. The child answers
`done <rss bytes>`. Between jobs it resets what a forked work horse would have thrown away with its process
(reset_after_job); database connections are reused per site (db_pool).
"""

import os
import random
import signal
import socket
import threading
import time

import frappe
import psutil
from rq.job import Job
from rq.worker import logger

from async_jobs.engine.run.fast import db_pool
from async_jobs.engine.run.monitor import THREAD_PREFIX

PROFILE_VARIABLE = "ASYNC_JOBS_FAST_WORKER_PROFILE"


# Signals whose handlers a job may change and the child puts back (SIGKILL and SIGSTOP cannot be caught).
RESTORED_SIGNALS = tuple(sig for sig in signal.valid_signals() if sig not in (signal.SIGKILL, signal.SIGSTOP))


class ChildState:
	"""What a job may change in the process and the child puts back afterwards — or, for what cannot be put back
	(a thread the job left running, a watcher that would not end), the reason to replace the child."""

	def __init__(self):
		self.environ = dict(os.environ)
		self.cwd = os.getcwd()
		self.handlers = {sig: signal.getsignal(sig) for sig in RESTORED_SIGNALS}
		self.threads = set(threading.enumerate())

	def restore(self) -> str | None:
		"""Put the process back as it was; returns why the child must be replaced instead, if it must."""
		frappe.destroy()  # execute_job destroys too, except when it fails before its try (a bad method path)
		if dict(os.environ) != self.environ:
			timezone = os.environ.get("TZ")
			os.environ.clear()
			os.environ.update(self.environ)
			if timezone != os.environ.get("TZ"):
				time.tzset()  # the C library's time zone follows TZ only when told
		if os.getcwd() != self.cwd:
			os.chdir(self.cwd)
		signal.alarm(0)
		for sig, handler in self.handlers.items():
			if signal.getsignal(sig) is not handler and handler is not None:
				try:
					signal.signal(sig, handler)
				except (OSError, ValueError):
					pass
		for thread in threading.enumerate():
			if thread.name.startswith(THREAD_PREFIX):
				thread.join(5)  # a tracked job's watcher ends with its job; never let one outlive it
		left = [t.name for t in threading.enumerate() if t not in self.threads and t.is_alive()]
		return f"the job left threads running: {', '.join(left)}" if left else None


WORKER_KIND_VARIABLE = "ASYNC_JOBS_WORKER_KIND"


def serve_jobs(worker, sock: socket.socket) -> None:
	"""Serve jobs from the supervisor until it says `exit` or goes away; never returns."""
	status = 1
	profiler = _profiler()
	try:
		os.setsid()  # like RQ's work horse: a terminal's Ctrl+C reaches the supervisor only
		signal.signal(signal.SIGINT, signal.SIG_IGN)
		signal.signal(signal.SIGTERM, signal.SIG_DFL)
		random.seed()
		worker._is_horse = True
		worker.log = logger
		db_pool.install()
		os.environ[WORKER_KIND_VARIABLE] = "fast"  # the executor labels its worker by it
		state = ChildState()
		process = psutil.Process()
		reader = sock.makefile("rb")
		for line in reader:
			words = line.decode().split()
			if not words or words[0] == "exit":
				break
			job_id, queue_name = words
			perform(worker, job_id, queue_name)
			recycle = state.restore()
			# A child that cannot be put back (a thread left running could act under the next job) is replaced.
			sock.sendall(f"done {process.memory_info().rss}{' recycle' if recycle else ''}\n".encode())
			if recycle:
				logger.warning("fast worker child %s is replaced: %s", os.getpid(), recycle)
		status = 0
	except BaseException:
		logger.exception("fast worker child failed")
	finally:
		db_pool.close_all()
		if profiler:
			profiler.disable()
			profiler.dump_stats(f"{os.environ[PROFILE_VARIABLE]}.{os.getpid()}")
		os._exit(status)


def _profiler():
	"""cProfile the child when ASYNC_JOBS_FAST_WORKER_PROFILE names a file prefix (stats land in <prefix>.<pid>)."""
	if not os.environ.get(PROFILE_VARIABLE):
		return None
	import cProfile

	profiler = cProfile.Profile()
	profiler.enable()
	return profiler


def perform(worker, job_id: str, queue_name: str) -> None:
	job = Job.fetch(job_id, connection=worker.connection, serializer=worker.serializer)
	queue = worker.queue_class(queue_name, connection=worker.connection, serializer=worker.serializer)
	worker.perform_job(job, queue)
