"""A watcher thread inside the work horse of a running tracked job.

Every few seconds it records a heartbeat (transport/heartbeat.py) and looks at the job's cancel flag. A job that
keeps running `grace` seconds after a cancel request (it never calls progress(), or swallows JobCancelled) is
hard-stopped: the thread records Cancelled in a site context of its own (frappe.local is per thread: the job's
stays untouched), does the after-end work (ended.py) and SIGKILLs the work horse. The worker then reports the job
failed to RQ; the ledger already says why.
"""

import os
import signal
import threading
import time
from contextlib import contextmanager

import frappe
import redis

from async_jobs.engine.ledger import lifecycle, settings
from async_jobs.engine.run.ended import attempt_ended
from async_jobs.engine.run.progress import cancel_key
from async_jobs.engine.transport import heartbeat, limits

POLL_EVERY = 0.5
THREAD_PREFIX = "async-jobs-monitor-"  # the fast worker's child joins these threads after each job


class JobMonitor(threading.Thread):
	def __init__(self, name: str, attempt: int, slot: tuple[str, float] | None = None):
		"""`slot`: (group, lease) of the concurrency slot the attempt holds; each beat renews its lease."""
		super().__init__(name=f"{THREAD_PREFIX}{name}", daemon=True)
		self.slot = slot
		conf = frappe.local.conf
		self.job = name
		self.attempt = attempt
		self.site = frappe.local.site
		self.sites_path = frappe.local.sites_path
		self.grace = settings.seconds("cancel_grace_seconds")
		self.cancel_key = frappe.cache.make_key(cancel_key(self.site, name))
		self.cache = _client(conf.redis_cache)
		self.queue = _client(conf.redis_queue)
		self._stopping = threading.Event()

	def start(self) -> None:
		heartbeat.beat(self.queue, self.site, self.job)  # the first beat before the job's code runs
		super().start()

	def stop(self) -> None:
		"""End the watch and the heartbeats (the ledger records the end, not the monitor)."""
		if self._stopping.is_set():
			return
		self._stopping.set()
		try:
			heartbeat.clear(self.queue, self.site, self.job)
		except redis.RedisError:
			pass  # Redis gone: the lifeline sees a started job without heartbeat and reconciles it
		if self.is_alive() and threading.current_thread() is not self:
			self.join(2)  # the thread ends with its job (a fast worker's child runs many jobs)

	def run(self) -> None:
		requested_at = None
		next_beat = time.monotonic() + heartbeat.BEAT_EVERY
		while not self._stopping.wait(POLL_EVERY):
			try:
				if time.monotonic() >= next_beat:
					heartbeat.beat(self.queue, self.site, self.job)
					if self.slot:
						limits.renew(self.queue, self.slot[0], self.job, self.attempt, self.slot[1])
					next_beat = time.monotonic() + heartbeat.BEAT_EVERY
				if requested_at is None:
					if self.cache.exists(self.cancel_key):
						requested_at = time.monotonic()
				elif time.monotonic() - requested_at >= self.grace:
					self.hard_stop()
					return
			except redis.RedisError:
				continue  # Redis restarting: keep watching; the lifeline covers the gap

	def hard_stop(self) -> None:
		if self._stopping.is_set():
			return  # the job ended on its own meanwhile
		reason = f"Hard-stopped {self.grace:g} s after a cancel request: the job did not stop on its own"
		with _site_context(self.site, self.sites_path):
			cancelled = lifecycle.transition(self.job, "cancel", attempt=self.attempt, error=reason)
			frappe.db.commit()
			if cancelled:
				attempt_ended(self.job, attempt=self.attempt)
		if cancelled:  # else the job reached an end of its own first: leave the horse alone
			heartbeat.clear(self.queue, self.site, self.job)
			os.kill(os.getpid(), signal.SIGKILL)


_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
	"""One Redis client per URL and process (thread-safe; a fast worker's child runs many jobs): a job's monitor
	opens no connection of its own."""
	if url not in _clients:
		_clients[url] = redis.Redis.from_url(url)
	return _clients[url]


@contextmanager
def _site_context(site: str, sites_path: str):
	"""The site initialised and connected in this thread alone (frappe.local is per thread and context)."""
	frappe.init(site=site, sites_path=sites_path)
	try:
		frappe.connect()
		yield
	finally:
		frappe.destroy()
