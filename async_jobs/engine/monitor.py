"""A watcher thread inside the work horse of a running tracked job.

Every few seconds it records a heartbeat (heartbeat.py) and looks at the job's cancel flag. A job that keeps
running `grace` seconds after a cancel request (it never calls progress(), or swallows JobCancelled) is
hard-stopped: the thread records Cancelled through its own database connection (frappe.local does not exist in
this thread) and SIGKILLs the work horse. The worker then reports the job failed to RQ; the ledger already says why.
"""

import os
import signal
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import frappe
import pymysql
import redis
from frappe.utils import get_system_timezone

from async_jobs.engine import heartbeat, lifecycle, settings
from async_jobs.engine.progress import cancel_key
from async_jobs.engine.status import JobStatus

POLL_EVERY = 0.5


class JobMonitor(threading.Thread):
	def __init__(self, name: str):
		super().__init__(name=f"async-jobs-monitor-{name}", daemon=True)
		conf = frappe.local.conf
		self.job = name
		self.site = frappe.local.site
		self.grace = settings.cancel_grace_seconds()
		self.cancel_key = frappe.cache.make_key(cancel_key(self.site, name))
		self.time_zone = ZoneInfo(get_system_timezone())
		self.cache = redis.Redis.from_url(conf.redis_cache)
		self.queue = redis.Redis.from_url(conf.redis_queue)
		self.db_args = {
			"host": conf.db_host or "127.0.0.1",
			"port": int(conf.db_port or 3306),
			"user": conf.db_name,
			"password": conf.db_password,
			"database": conf.db_name,
		}
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
		db = pymysql.connect(**self.db_args, autocommit=False)
		try:
			with db.cursor() as cursor:
				reason = (
					f"Hard-stopped {self.grace:g} s after a cancel request: the job did not stop on its own"
				)
				now = datetime.now(self.time_zone).replace(tzinfo=None)
				cursor.execute(*lifecycle.build(self.job, "cancel", now=now, error=reason))
				cancelled = cursor.rowcount == 1
				if cancelled:  # a batch child: counted now, its batch settled by the lifeline
					cursor.execute(*lifecycle.batch_count(self.job, JobStatus.CANCELLED))
			db.commit()
		finally:
			db.close()
		if cancelled:  # else the job reached an end of its own first: leave the horse alone
			heartbeat.clear(self.queue, self.site, self.job)
			os.kill(os.getpid(), signal.SIGKILL)
