"""progress(done, total, message) inside a tracked job: throttled, persisted about once a second, streamed live.

The common path (nothing due) is a clock read and two comparisons, so a job can call it in a tight loop.
"""

import time

import frappe

from async_jobs.engine.ledger.errors import JobCancelled
from async_jobs.engine.transport import realtime

PUBLISH_EVERY = 0.25  # seconds between realtime messages
PERSIST_EVERY = 1.0  # seconds between ledger writes
CANCEL_CHECK_EVERY = 0.5  # seconds between looks at the cancel flag
EVENT = "async_jobs:progress"
# What readers of the document a job is about see of it (its owner and the managers see everything).
READER_FIELDS = (
	"name",
	"job_type",
	"status",
	"done",
	"total",
	"percent",
	"run_at",
	"reference_doctype",
	"reference_name",
)


def cancel_key(site: str, name: str) -> str:
	return f"async_jobs:cancel:{site}:{name}"


class Progress:
	"""Progress state of the running job; the executor creates one per run."""

	def __init__(self, job, side, redis):
		self.job = job
		self.name = job.name
		self.side = side
		self.redis = redis
		self.cancel_key = cancel_key(frappe.local.site, job.name)
		self.done = 0
		self.total = None
		self.message = None
		self._last_publish = self._last_persist = self._last_cancel_check = 0.0
		self._dirty = False
		self.touched = False  # progress() was called at all

	def percent(self) -> float:
		if not self.total:
			return 0.0
		return round(min(100.0, max(0.0, 100.0 * self.done / self.total)), 2)

	def update(self, done, total=None, message=None) -> None:
		now = time.monotonic()
		self.done = done
		if total is not None:
			self.total = total
		if message is not None:
			self.message = message
		self._dirty = self.touched = True
		if now - self._last_cancel_check >= CANCEL_CHECK_EVERY:
			self._last_cancel_check = now
			if self.redis.exists(self.cancel_key):
				raise JobCancelled(frappe._("Cancelled on request"))
		finished = self.total is not None and done >= self.total
		if finished or now - self._last_publish >= PUBLISH_EVERY:
			self._last_publish = now
			self.publish()
		if finished or now - self._last_persist >= PERSIST_EVERY:
			self._last_persist = now
			self.persist()

	def fields(self) -> dict:
		"""The ledger's progress fields as they stand (written with the attempt's end)."""
		return {
			"progress_done": self.done,
			"progress_total": self.total,
			"progress_percent": self.percent(),
			"progress_message": (self.message or "")[:1000],
		}

	def publish(self) -> None:
		publish(EVENT, self.job, self.done, self.total, self.percent(), self.message)

	def persist(self) -> None:
		if not self._dirty:
			return
		self._dirty = False
		self.side.write(
			_write_progress,
			self.name,
			self.job.attempts,
			self.done,
			self.total,
			self.percent(),
			(self.message or "")[:1000],
		)


def publish(event: str, job, done, total, percent: float, message: str | None, **extra) -> None:
	"""A realtime event about `job` (a row with its name, job_type, owner and reference fields), sent at once: progress
	must show while the job runs. Readers of its document get READER_FIELDS only."""
	payload = {
		"name": job.name,
		"job_type": job.job_type,
		"owner": job.owner,
		"done": done,
		"total": total,
		"percent": percent,
		"message": message,
		"reference_doctype": job.reference_doctype,
		"reference_name": job.reference_name,
		**extra,
	}
	readers = realtime.for_readers(event, payload, READER_FIELDS, job.reference_doctype, job.reference_name)
	realtime.publish(event, payload, job.owner, also=readers)


def _write_progress(name, attempt, done, total, percent, message, db):
	"""Only while this attempt is the job's running one: a stale attempt's progress never overwrites a newer's."""
	db.sql(
		"UPDATE `tabAsync Job` SET progress_done=%s, progress_total=%s, progress_percent=%s, progress_message=%s"
		" WHERE name=%s AND attempts=%s AND status='Started'",
		(done, total, percent, message, name, attempt),
	)


def progress(done, total=None, message=None) -> None:
	"""Report progress from inside a tracked job. Outside one (a plain call, a test) it does nothing.

	Raises JobCancelled when the job was asked to stop: let it propagate.
	"""
	current = getattr(frappe.local, "async_job_progress", None)
	if current is not None:
		current.update(done, total, message)
