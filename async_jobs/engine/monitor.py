"""A watcher thread inside the work horse of a running tracked job.

It polls the job's cancel flag in Redis. A job that keeps running `grace` seconds after a cancel request (it never
calls progress(), or swallows JobCancelled) is hard-stopped: the thread records Cancelled through its own
database connection (frappe.local does not exist in this thread) and SIGKILLs the work horse. The worker then
reports the job failed to RQ; the ledger already says why.
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

from async_jobs.engine import lifecycle, settings
from async_jobs.engine.progress import cancel_key

POLL_EVERY = 0.5


class JobMonitor(threading.Thread):
	def __init__(self, name: str):
		super().__init__(name=f"async-jobs-monitor-{name}", daemon=True)
		conf = frappe.local.conf
		self.job = name
		self.grace = settings.cancel_grace_seconds()
		self.cancel_key = frappe.cache.make_key(cancel_key(frappe.local.site, name))
		self.time_zone = ZoneInfo(get_system_timezone())
		self.redis_url = conf.redis_cache
		self.db_args = {
			"host": conf.db_host or "127.0.0.1",
			"port": int(conf.db_port or 3306),
			"user": conf.db_name,
			"password": conf.db_password,
			"database": conf.db_name,
		}
		self._stop = threading.Event()

	def stop(self) -> None:
		self._stop.set()

	def run(self) -> None:
		conn = redis.Redis.from_url(self.redis_url)
		requested_at = None
		while not self._stop.wait(POLL_EVERY):
			if requested_at is None:
				if conn.exists(self.cancel_key):
					requested_at = time.monotonic()
			elif time.monotonic() - requested_at >= self.grace:
				self.hard_stop()
				return

	def hard_stop(self) -> None:
		if self._stop.is_set():
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
			db.commit()
		finally:
			db.close()
		if cancelled:  # else the job reached an end of its own first: leave the horse alone
			os.kill(os.getpid(), signal.SIGKILL)
