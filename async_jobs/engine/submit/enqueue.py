"""Enqueue a tracked job: one Async Job row and one RQ job, consistent with each other.

By default the RQ job is pushed after the current transaction commits, so a request that rolls back leaves neither.
With after_commit=False the row is written and committed on a side connection and the job pushed at once,
independent of the caller's transaction. Its RQ id is `<site>::async_job::<name>`.
"""

from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from async_jobs.engine.chains import plan, release
from async_jobs.engine.ledger.arguments import encrypt_arguments
from async_jobs.engine.ledger.errors import is_seconds
from async_jobs.engine.ledger.redact import readable_arguments
from async_jobs.engine.ledger.side_db import SideConnection
from async_jobs.engine.ledger.status import HELD_BY_PARENTS, HELD_BY_RATE, MAX_DELAY, JobStatus
from async_jobs.engine.retry.policy import RetryPolicy
from async_jobs.engine.submit import dedup, flow
from async_jobs.engine.submit.dedup import DuplicateJobError
from async_jobs.engine.submit.registry import JobType
from async_jobs.engine.submit.resolve import check_arguments, resolve
from async_jobs.engine.transport import realtime, rq_jobs

EVENT = "async_jobs:progress"  # as a job's progress: the Desk's pages listen to that

ON_DUPLICATE = ("return", "raise")


def enqueue(
	method: "str | Callable | JobType",
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
	concurrency_limit: int | None = None,
	concurrency_key: str | None = None,
	rate_limit: str | None = None,
	rate_key: str | None = None,
	expires_in: float | None = None,
	expires_at: datetime | str | None = None,
	after: list | str | None = None,
	on_parent_failure: str | None = None,
	chain: str | None = None,
	chain_step: int | None = None,
	schedule: str | None = None,
	schedule_tick: str | None = None,
):
	"""Track and enqueue `method(**kwargs)`; return the Async Job document.

	`method` is a dotted path, a function, or a registered job type or its name (whose policy then applies).
	`notify` is when the owner gets a Notification Log entry: "On Failure" (default), "Always" or "Never".
	`retry` is the retry policy: a number of attempts, a dict of RetryPolicy fields, or a RetryPolicy (default:
	the job type's, else no retries). With a dedup key, a second enqueue while the first job waits
	(until_started) or has not ended (until_finished) returns the first job, or raises DuplicateJobError with
	on_duplicate="raise". `batch` makes the job a child of that Async Job Batch (see engine/batches/).
	Flow control (over the job type's): at most `concurrency_limit` jobs of the type (and `concurrency_key`) run
	at once; at most `rate_limit` ("5/s") start per window (per `rate_key`); a job not started by `expires_at`
	(or `expires_in` seconds from now) ends Expired (see engine/submit/flow.py).
	With `after` (Async Job or Async Job Batch names) the job waits, Held, until every one of them has ended, then
	runs — or is cancelled when one did not succeed, unless `on_parent_failure` is "run" (see engine/chains/).
	`chain` and `chain_step` are set by async_jobs.chain, `schedule` and `schedule_tick` by the schedules' firing
	(engine/schedules/fire.py).
	"""
	kwargs = {} if kwargs is None else kwargs
	given = {
		"concurrency_limit": concurrency_limit,
		"concurrency_key": concurrency_key,
		"rate_limit": rate_limit,
		"rate_key": rate_key,
		"expires_in": expires_in,
		"expires_at": expires_at,
	}
	options = resolve(method, job_type, queue, timeout, retry, notify, flow_given=given)
	pickled = check_arguments(kwargs)
	if on_duplicate not in ON_DUPLICATE:
		frappe.throw(
			_("on_duplicate must be one of {0}").format(", ".join(ON_DUPLICATE)), frappe.ValidationError
		)
	when = _run_at(run_at, delay)
	parents = plan.parents_of(after)
	parent_policy = plan.policy(on_parent_failure, parents)
	if parents and (run_at is not None or delay is not None):
		frappe.throw(
			_("A job enqueued after others starts when they end: give it no run_at or delay"),
			frappe.ValidationError,
		)
	reference = [reference_doctype, reference_name]
	lock, mode = dedup.lock_for(
		options.spec, options.path, dedup_key, dedup_mode, kwargs, reference, frappe.session.user
	)

	job = frappe.get_doc(
		{
			"doctype": "Async Job",
			**options.fields(at_front, reference_doctype, reference_name, batch),
			"status": (JobStatus.SCHEDULED if when else JobStatus.QUEUED).value,
			"kind": "Tracked",
			"run_at": when,
			"queued_at": None if when else now_datetime(),
			"arguments": readable_arguments(kwargs),
			"encrypted_arguments": encrypt_arguments(kwargs, pickled),
			"dedup_key": dedup_key if lock else None,
			"dedup_mode": mode,
			"dedup_lock": lock,
			**options.flow.fields(kwargs, when),
			"chain": chain,
			"chain_step": chain_step,
			"schedule": schedule,
			"schedule_tick": schedule_tick,
			"on_parent_failure": parent_policy,
		}
	)
	if parents:  # waits in the ledger, with no RQ job, until its parents have ended
		job.update({"status": JobStatus.HELD.value, "held_by": HELD_BY_PARENTS, "queued_at": None})
	job.name = frappe.generate_hash(length=10)  # named up front: the RQ id goes into the same INSERT
	job.rq_job_id = rq_jobs.full_rq_job_id(job.name)
	# Its start planned within the rate limit, so that it reaches a worker on time (a job that waits for parents
	# has no start to plan: its worker's gate applies the limit when it starts).
	if options.flow.rate and not parents:
		start_in = flow.reserve_starts(options.flow, job.job_type, [(job.name, job.rate_key)], when)[0]
		if start_in > flow.MOVED_AFTER:
			asked = (when - now_datetime()).total_seconds() if when else 0
			when = now_datetime() + timedelta(seconds=start_in)
			job.update({"status": JobStatus.SCHEDULED.value, "run_at": when, "queued_at": None})
			if start_in > asked + flow.MOVED_AFTER:
				job.held_by = HELD_BY_RATE
	with _database(after_commit) as db:
		holder = dedup.insert(job, db, lock)
		if holder:
			if on_duplicate == "raise":
				frappe.throw(
					_("Job {0} with the same dedup key is still active").format(holder.name),
					DuplicateJobError,
				)
			return holder
		if parents:
			plan.record(job.name, parents, db)

	def push():
		if parents:  # committed: look once (its parents may have ended meanwhile); the stager watches it
			with _database(after_commit=False) if not after_commit else nullcontext():
				release.after_enqueue(job.name)
			realtime.announce(EVENT, job, job.status)
			return
		rq_jobs.push(
			job.name,
			job.owner,
			options.queue,
			options.timeout,
			kwargs,
			at_front=bool(at_front),
			run_at=when,
			job_type=job.job_type,
			flow=options.flow.any,
		)
		realtime.announce(EVENT, job, job.status, run_at=str(when) if when else None)

	if after_commit:
		frappe.db.after_commit.add(push)
	else:
		push()
	return job


def _run_at(run_at, delay) -> datetime | None:
	if run_at is not None and delay is not None:
		frappe.throw(_("Give either run_at or delay, not both"), frappe.ValidationError)
	if delay is not None:
		seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
		if not is_seconds(seconds, MAX_DELAY):
			frappe.throw(
				_("delay must be a number of seconds from 0 to {0} (a year)").format(MAX_DELAY),
				frappe.ValidationError,
			)
		return now_datetime() + timedelta(seconds=seconds) if seconds else None
	if run_at is not None:
		try:
			when = get_datetime(run_at)
		except Exception:
			frappe.throw(_("run_at is not a date and time: {0}").format(run_at), frappe.ValidationError)
		return when if when > now_datetime() else None
	return None


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
