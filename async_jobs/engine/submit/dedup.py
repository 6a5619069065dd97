"""Deduplication: a job with a dedup key holds a lock (a unique column of the ledger) while it waits (until_started)
or until it ends (until_finished); a second enqueue with the same key finds the holder instead of a new row.
Locks are per job type (or function) and per owner: one user's enqueue never returns another user's job."""

import hashlib
import json

import frappe
from frappe import _

from async_jobs.engine.submit.registry import DEDUP_MODES


class DuplicateJobError(frappe.ValidationError):
	"""A job with the same dedup key is still waiting (or running, for until_finished)."""


def lock_for(spec, path, key, mode, kwargs, reference, owner: str) -> tuple[str | None, str | None]:
	"""The dedup lock and mode of a job of `owner`: the job type's dedup mode makes a key of the arguments when
	none is given."""
	mode = mode or (spec.dedup if spec else None)
	if key is None and mode and spec:
		key = hashlib.sha1(json.dumps([reference, kwargs], sort_keys=True, default=str).encode()).hexdigest()
	if key is None:
		return None, None
	mode = mode or "until_finished"
	if mode not in DEDUP_MODES:
		frappe.throw(_("Unknown dedup mode {0}; use one of {1}").format(mode, ", ".join(DEDUP_MODES)))
	lock = f"{spec.name if spec else path}|{owner}|{key}"
	if len(lock) > 140:
		lock = f"sha1|{hashlib.sha1(lock.encode()).hexdigest()}"
	return lock, mode


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


def insert(job, db, lock: str | None) -> str | None:
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
