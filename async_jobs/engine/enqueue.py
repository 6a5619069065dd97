"""Enqueue a tracked job: one Async Job row and one RQ job, consistent with each other.

By default the RQ job is pushed after the current transaction commits, so a request that rolls back leaves neither.
With after_commit=False the row is written and committed on a side connection and the job pushed at once,
independent of the caller's transaction. Its RQ id is `<site>::async_job::<name>`.
"""

import hashlib
import json
import pickle
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import cint, get_datetime, now_datetime
from frappe.utils.background_jobs import get_queues_timeout

from async_jobs.engine import transport
from async_jobs.engine.arguments import seal
from async_jobs.engine.notify import NOTIFY_MODES
from async_jobs.engine.redact import redact
from async_jobs.engine.registry import DEDUP_MODES, JobType, get_job_type, job_types
from async_jobs.engine.retry import RetryPolicy
from async_jobs.engine.side_db import SideConnection
from async_jobs.engine.status import JobStatus

MAX_ARGUMENT_BYTES = 512 * 1024
ON_DUPLICATE = ("return", "raise")


class DuplicateJobError(frappe.ValidationError):
	"""A job with the same dedup key is still waiting (or running, for until_finished)."""


def method_path(method: str | Callable) -> str:
	if callable(method):
		return f"{method.__module__}.{method.__qualname__}"
	return method


def _resolve(method, job_type: str | None) -> tuple[JobType | None, str]:
	if isinstance(method, str) and method in job_types():
		spec = get_job_type(method)
		return spec, spec.method
	spec = get_job_type(job_type) if job_type else None
	return spec, method_path(method)


def _validate(method: str, queue: str, timeout, kwargs) -> None:
	if not isinstance(method, str) or not method:
		frappe.throw(_("A job needs a function to run"), frappe.ValidationError)
	try:
		frappe.get_attr(method)
	except Exception:
		frappe.throw(
			_("{0} is not an importable function of an installed app").format(method), frappe.ValidationError
		)
	if queue not in get_queues_timeout():
		frappe.throw(_("Unknown queue: {0}").format(queue), frappe.ValidationError)
	if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0):
		frappe.throw(_("Timeout must be a positive whole number of seconds"), frappe.ValidationError)
	if not isinstance(kwargs, dict):
		frappe.throw(_("Job arguments must be a dictionary"), frappe.ValidationError)
	try:
		size = len(pickle.dumps(kwargs))  # RQ stores the arguments pickled
	except Exception:
		frappe.throw(
			_("Job arguments must be plain data that can be stored (picklable)"), frappe.ValidationError
		)
	if size > MAX_ARGUMENT_BYTES:
		frappe.throw(
			_("Job arguments are {0} KiB; the limit is {1} KiB").format(
				size // 1024, MAX_ARGUMENT_BYTES // 1024
			),
			frappe.ValidationError,
		)


def _run_at(run_at, delay) -> datetime | None:
	if run_at is not None and delay is not None:
		frappe.throw(_("Give either run_at or delay, not both"), frappe.ValidationError)
	if delay is not None:
		seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
		if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
			frappe.throw(_("Delay must be a non-negative number of seconds"), frappe.ValidationError)
		return now_datetime() + timedelta(seconds=seconds) if seconds else None
	if run_at is not None:
		try:
			when = get_datetime(run_at)
		except Exception:
			frappe.throw(_("run_at is not a date and time: {0}").format(run_at), frappe.ValidationError)
		return when if when > now_datetime() else None
	return None


def _retry_policy(value) -> RetryPolicy:
	try:
		return RetryPolicy.from_value(value)
	except (TypeError, ValueError) as e:
		frappe.throw(_("Bad retry policy: {0}").format(e), frappe.ValidationError)


@dataclass(frozen=True)
class Resolved:
	"""What enqueue() and enqueue_many() settle alike from a method and the options: the job type (if any), the
	function, queue, timeout, retry policy and notify mode, validated."""

	spec: JobType | None
	path: str
	queue: str
	timeout: int
	policy: RetryPolicy
	notify: str

	def fields(self, at_front, reference_doctype, reference_name, batch) -> dict:
		"""The ledger fields every job of these options shares."""
		return {
			"job_type": self.spec.name if self.spec else self.path,
			"method": self.path,
			"queue": self.queue,
			"timeout": self.timeout,
			"at_front": cint(at_front),
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			"batch": batch,
			"max_attempts": self.policy.max_attempts,
			"notify": self.notify,
			"email_owner": cint(bool(self.spec and self.spec.email_on_finish)),
			"retry_policy": json.dumps(self.policy.to_dict()),
		}


def resolve(method, job_type, queue, timeout, retry, notify, kwargs: dict) -> Resolved:
	"""Apply the job type's policy where an option is not given, validate, and fill in the queue's timeout."""
	spec, path = _resolve(method, job_type)
	queue = queue or (spec.queue if spec else "default")
	timeout = timeout if timeout is not None else (spec.timeout if spec else None)
	_validate(path, queue, timeout, kwargs)
	policy = _retry_policy(retry if retry is not None else (spec.retry if spec else None))
	notify = notify or (spec.notify if spec else None) or "On Failure"
	if notify not in NOTIFY_MODES:
		frappe.throw(_("notify must be one of {0}").format(", ".join(NOTIFY_MODES)), frappe.ValidationError)
	return Resolved(spec, path, queue, timeout or get_queues_timeout()[queue], policy, notify)


def _dedup_lock(spec, path, key, mode, kwargs, reference) -> tuple[str | None, str | None]:
	mode = mode or (spec.dedup if spec else None)
	if key is None and mode and spec:
		key = hashlib.sha1(json.dumps([reference, kwargs], sort_keys=True, default=str).encode()).hexdigest()
	if key is None:
		return None, None
	mode = mode or "until_finished"
	if mode not in DEDUP_MODES:
		frappe.throw(_("Unknown dedup mode {0}; use one of {1}").format(mode, ", ".join(DEDUP_MODES)))
	lock = f"{spec.name if spec else path}|{key}"
	if len(lock) > 140:
		lock = f"sha1|{hashlib.sha1(lock.encode()).hexdigest()}"
	return lock, mode


@contextmanager
def _database(after_commit: bool):
	"""frappe.db (the caller's transaction) or, for after_commit=False, a side connection committed on exit."""
	if after_commit:
		yield frappe.db
		return
	side, caller_db = SideConnection(), frappe.local.db
	frappe.local.db = side.db
	try:
		yield side.db
		side.db.commit()
	except Exception:
		side.db.rollback()
		raise
	finally:
		frappe.local.db = caller_db
		side.close()


def enqueue(
	method: str | Callable,
	kwargs: dict | None = None,
	*,
	queue: str | None = None,
	timeout: int | None = None,
	at_front: bool = False,
	run_at: datetime | str | None = None,
	delay: float | timedelta | None = None,
	after_commit: bool = True,
	dedup_key: str | None = None,
	dedup_mode: str | None = None,
	on_duplicate: str = "return",
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	job_type: str | None = None,
	retry: "RetryPolicy | dict | int | None" = None,
	notify: str | None = None,
	batch: str | None = None,
):
	"""Track and enqueue `method(**kwargs)`; return the Async Job document.

	`method` is a dotted path, a function, or the name of a registered job type (whose policy then applies).
	`notify` is when the owner gets a Notification Log entry: "On Failure" (default), "Always" or "Never".
	`retry` is the retry policy: a number of attempts, a dict of RetryPolicy fields, or a RetryPolicy (default:
	the job type's, else no retries). With a dedup key, a second enqueue while the first job waits
	(until_started) or has not ended (until_finished) returns the first job, or raises DuplicateJobError with
	on_duplicate="raise". `batch` makes the job a child of that Async Job Batch (see engine/batches.py).
	"""
	kwargs = {} if kwargs is None else kwargs
	options = resolve(method, job_type, queue, timeout, retry, notify, kwargs)
	spec, path, queue, timeout = options.spec, options.path, options.queue, options.timeout
	if on_duplicate not in ON_DUPLICATE:
		frappe.throw(
			_("on_duplicate must be one of {0}").format(", ".join(ON_DUPLICATE)), frappe.ValidationError
		)
	when = _run_at(run_at, delay)
	lock, mode = _dedup_lock(spec, path, dedup_key, dedup_mode, kwargs, [reference_doctype, reference_name])

	job = frappe.get_doc(
		{
			"doctype": "Async Job",
			**options.fields(at_front, reference_doctype, reference_name, batch),
			"status": (JobStatus.SCHEDULED if when else JobStatus.QUEUED).value,
			"run_at": when,
			"queued_at": None if when else now_datetime(),
			"arguments": json.dumps(redact(kwargs), indent=1, sort_keys=True, default=str),
			"encrypted_arguments": seal(kwargs),
			"dedup_key": dedup_key if lock else None,
			"dedup_mode": mode,
			"dedup_lock": lock,
		}
	)
	job.name = frappe.generate_hash(length=10)  # named up front: the RQ id goes into the same INSERT
	job.rq_job_id = transport.full_rq_job_id(job.name)
	with _database(after_commit) as db:
		holder = _insert_retrying_deadlock(job, db, lock)
		if holder:
			if on_duplicate == "raise":
				frappe.throw(
					_("Job {0} with the same dedup key is still active").format(holder.name),
					DuplicateJobError,
				)
			return holder

	def push():
		transport.push(job.name, queue, timeout, kwargs, at_front=bool(at_front), run_at=when)

	if after_commit:
		frappe.db.after_commit.add(push)
	else:
		push()
	return job


DEADLOCK_RETRIES = 3


def _insert(job) -> None:
	"""The row alone: the ledger has no validations or hooks to run, and Document.insert's cost them per job."""
	job.set_user_and_timestamp()
	job.db_insert()


def _insert_unless_duplicate(job, db, lock: str | None) -> str | None:
	"""Insert the row; with a dedup lock, the unique index decides atomically. Return the holder on a clash."""
	if not lock:
		_insert(job)
		return None
	db.savepoint("async_jobs_dedup")
	try:
		_insert(job)
		return None
	except frappe.UniqueValidationError:
		db.rollback(save_point="async_jobs_dedup")
		frappe.clear_last_message()  # the clash is expected, not a message for the user
		holder = _read_holder(db, lock)
		if not holder:  # the holder ended between our insert and this read: try once more
			_insert(job)
			return None
		return holder


def _insert_retrying_deadlock(job, db, lock: str | None) -> str | None:
	"""A dedup clash can deadlock with a worker that releases the same key at that moment (it updates the holder's
	row while we hold a shared lock on the key; a fast worker starts jobs within milliseconds). InnoDB then rolls
	back our whole transaction: when it held no writes from before this enqueue, inserting again is safe.
	Returns the holder's document on a clash (a locking read: it committed after our snapshot began)."""
	fresh = not db.transaction_writes
	for attempt in range(DEADLOCK_RETRIES + 1):
		try:
			existing = _insert_unless_duplicate(job, db, lock)
			return _holder_doc(db, existing) if existing else None
		except frappe.QueryDeadlockError:
			if not (lock and fresh) or attempt == DEADLOCK_RETRIES:
				raise


def _read_holder(db, lock: str) -> str | None:
	# A locking read sees the latest committed holder whatever our snapshot is. Shared, not FOR UPDATE: every
	# contender already holds a shared lock on that key from its failed insert, and exclusive requests on top
	# of those would deadlock.
	rows = db.sql("SELECT name FROM `tabAsync Job` WHERE dedup_lock = %s LOCK IN SHARE MODE", lock)
	return rows[0][0] if rows else None


def _holder_doc(db, name: str):
	row = db.sql("SELECT * FROM `tabAsync Job` WHERE name = %s LOCK IN SHARE MODE", name, as_dict=True)[0]
	return frappe.get_doc({**row, "doctype": "Async Job"})
