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

import frappe
import psutil
from rq.job import Job
from rq.worker import logger

from async_jobs.engine.run.fast import db_pool
from async_jobs.engine.run.monitor import THREAD_PREFIX

PROFILE_VARIABLE = "ASYNC_JOBS_FAST_WORKER_PROFILE"


class ChildState:
	"""What a job may change in the process and the child puts back afterwards."""

	def __init__(self):
		self.environ = dict(os.environ)
		self.cwd = os.getcwd()
		self.alarm_handler = signal.getsignal(signal.SIGALRM)

	def restore(self) -> None:
		frappe.destroy()  # execute_job destroys too, except when it fails before its try (a bad method path)
		if dict(os.environ) != self.environ:
			os.environ.clear()
			os.environ.update(self.environ)
		if os.getcwd() != self.cwd:
			os.chdir(self.cwd)
		signal.alarm(0)
		signal.signal(signal.SIGALRM, self.alarm_handler)
		for thread in threading.enumerate():
			if thread.name.startswith(THREAD_PREFIX):
				thread.join(5)  # a tracked job's watcher ends with its job; never let one outlive it


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
		state = ChildState()
		process = psutil.Process()
		reader = sock.makefile("rb")
		for line in reader:
			words = line.decode().split()
			if not words or words[0] == "exit":
				break
			job_id, queue_name = words
			perform(worker, job_id, queue_name)
			state.restore()
			sock.sendall(f"done {process.memory_info().rss}\n".encode())
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
