"""The fast worker (`bench async-jobs worker`): Frappe stays initialised between jobs.

`bench worker` forks a work horse per job, which then initialises Frappe, imports the job's modules and opens a
database connection, and exits. The fast worker is an RQ worker too (it registers, heartbeats, dequeues and
answers RQ's commands, so Frappe's RQ Worker page and the lifeline see it as any worker), but its "work horse" is
one long-lived child, forked once after Frappe and the installed apps are imported, that performs job after job
(child.py). The supervisor watches it as RQ watches a horse:

- hard timeout: a job still running `hard_timeout_grace` seconds past its timeout (the child's SIGALRM did not
  stop it) gets the child SIGKILLed; RQ records the job failed ("Work-horse terminated unexpectedly ... signal 9")
  and the lifeline records a tracked job Timed Out;
- a child that dies (os._exit, SIGKILL, out of memory, a hard stop after a cancel) fails its job the same way and
  is replaced;
- recycling: a new child after `max_jobs` jobs or when the child's RSS passes `max_memory_mb`;
- SIGTERM: the running job finishes, then the child and the worker exit; a job still running `shutdown_grace`
  seconds later is killed and recorded failed, so the lifeline retries it by its policy (a second SIGTERM kills
  at once, as RQ's cold shutdown).
"""

import os
import signal
import socket
import time
from datetime import timedelta

from rq.job import JobStatus
from rq.utils import utcnow
from rq.worker import Worker, WorkerStatus

from async_jobs.engine.run.fast.child import serve_jobs
from async_jobs.engine.run.fast.child_process import ChildProcess
from async_jobs.engine.transport import workers as rq_workers
from async_jobs.engine.transport.pause import PauseAwareQueue

CHECK_EVERY = 1.0  # seconds between the supervisor's looks at a running job


class FastWorker(Worker):
	queue_class = PauseAwareQueue  # paused queues are skipped (transport/pause.py)

	def __init__(
		self,
		*args,
		max_jobs_per_child: int = 1000,
		max_memory_mb: int = 512,
		hard_timeout_grace: float = 60,
		shutdown_grace: float = 60,
		**kwargs,
	):
		super().__init__(*args, **kwargs)
		self.max_jobs_per_child = max_jobs_per_child
		self.max_memory = max_memory_mb * 1024 * 1024
		self.hard_timeout_grace = hard_timeout_grace
		self.shutdown_grace = shutdown_grace
		self.child: ChildProcess | None = None
		self.children_started = 0

	def register_birth(self):
		super().register_birth()
		self.connection.hset(self.key, rq_workers.KIND_FIELD, "fast")  # the Desk says "fast worker"

	# the child -----------------------------------------------------------------------------------------------
	def bootstrap(self, *args, **kwargs):
		super().bootstrap(*args, **kwargs)
		self.start_child()

	def start_child(self) -> None:
		ours, theirs = socket.socketpair()
		pid = os.fork()
		if pid == 0:
			ours.close()
			serve_jobs(self, theirs)  # never returns
		theirs.close()
		self.child = ChildProcess(pid, ours)
		self.children_started += 1
		self.log.info("Fast worker %s: child %s started", self.name, pid)

	def stop_child(self, timeout: float = 10) -> None:
		child, self.child = self.child, None
		if child is None or child.reap(block=False) is not None:
			return
		try:
			child.send("exit")
		except OSError:
			pass
		deadline = time.monotonic() + timeout
		while child.reap(block=False) is None and time.monotonic() < deadline:
			time.sleep(0.02)
		if child.reap(block=False) is None:
			child.kill()
			child.reap()

	def teardown(self):
		self.stop_child()
		super().teardown()

	# RQ's hooks --------------------------------------------------------------------------------------------
	def execute_job(self, job, queue):
		self.set_state(WorkerStatus.BUSY)
		if self.child is None or self.child.reap(block=False) is not None:
			self.start_child()
		try:
			self.child.send(f"{job.id} {queue.name}")
		except OSError:  # died while idle: a new child takes the job
			self.child.kill()
			self.child.reap()
			self.start_child()
			self.child.send(f"{job.id} {queue.name}")
		self._horse_pid = self.child.pid
		self.watch_child(job, queue)
		self._horse_pid = 0
		self.set_state(WorkerStatus.IDLE)

	def kill_horse(self, sig: signal.Signals = signal.SIGKILL):
		"""RQ's kill-horse and stop-job commands, a cold shutdown: kill the child running the current job (a new
		one replaces it). Runs in RQ's pubsub thread too: between jobs (no horse pid) nothing is killed."""
		child = self.child
		if self._horse_pid and child is not None and child.pid == self._horse_pid:
			child.kill()

	def wait_for_horse(self):
		if self.child is not None:
			return self.child.pid, self.child.reap(), None
		return None, None, None

	# watching a job ------------------------------------------------------------------------------------------
	def watch_child(self, job, queue) -> None:
		job.started_at = utcnow()
		started = time.monotonic()
		next_beat = started + min(self.job_monitoring_interval, 10)
		reason = ""
		timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT  # as RQ's perform_job arms SIGALRM
		while True:
			line = self.child.read_line(CHECK_EVERY)
			if line:
				self.child.jobs += 1
				words = line.split()
				self.after_job(int(words[1]), recycle=b"recycle" in words[2:])
				return
			if line == b"":
				break  # the child is gone
			elapsed = time.monotonic() - started
			self.set_current_job_working_time(elapsed)
			if timeout != -1 and elapsed > timeout + self.hard_timeout_grace:
				reason = f"killed by the fast worker {elapsed:.0f} s into a job with a timeout of {timeout} s"
				self.child.kill()
				break
			if self._stop_requested and self.shutdown_grace_passed():
				reason = f"killed by the fast worker's shutdown after a grace of {self.shutdown_grace:g} s"
				self.child.kill()
				break
			if time.monotonic() >= next_beat:
				self.maintain_heartbeats(job)
				next_beat = time.monotonic() + min(self.job_monitoring_interval, 10)
		self.child_died(job, queue, reason)

	def shutdown_grace_passed(self) -> bool:
		requested = self._shutdown_requested_date
		return bool(requested) and utcnow() - requested > timedelta(seconds=self.shutdown_grace)

	def after_job(self, rss: int, recycle: bool = False) -> None:
		if recycle or self.child.jobs >= self.max_jobs_per_child or rss > self.max_memory:
			self.log.info(
				"Fast worker %s: recycling child %s after %s jobs (RSS %.0f MB)",
				self.name,
				self.child.pid,
				self.child.jobs,
				rss / 1024 / 1024,
			)
			self.stop_child()
			if not self._stop_requested:
				self.start_child()

	def child_died(self, job, queue, reason: str) -> None:
		"""What RQ does when a work horse dies under a job (Worker.monitor_work_horse), then a new child."""
		child = self.child
		status = child.reap()
		self.set_current_job_working_time(0)
		self.child = None
		job_status = job.get_status()
		if job_status is not None and self._stopped_job_id == job.id:
			self.log.warning("Job stopped by user, moving job to FailedJobRegistry")
			if job.stopped_callback:
				job.execute_stopped_callback(self.death_penalty_class)
			self.handle_job_failure(
				job, queue=queue, exc_string="Job stopped by user, work-horse terminated."
			)
		elif job_status not in (None, JobStatus.FINISHED, JobStatus.FAILED):
			job.ended_at = job.ended_at or utcnow()
			signal_msg = f" (signal {os.WTERMSIG(status)})" if status and os.WIFSIGNALED(status) else ""
			exc_string = (
				f"Work-horse terminated unexpectedly; waitpid returned {status}{signal_msg}; {reason}"
			)
			self.log.warning("Moving job to FailedJobRegistry (%s)", exc_string)
			self.handle_work_horse_killed(job, child.pid, status, None)
			self.handle_job_failure(job, queue=queue, exc_string=exc_string)
		if not self._stop_requested:
			self.start_child()
