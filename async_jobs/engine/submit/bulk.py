"""Enqueue many tracked jobs of one function at once: multi-row INSERTs into the ledger and pipelined RQ pushes.

The same rows and RQ jobs as enqueue() makes one by one, at a fraction of the cost per job; for jobs without a
delay or a dedup key (use enqueue() for those). Batches use it for their children.
"""

from collections.abc import Iterable
from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import now_datetime

from async_jobs.engine.ledger.arguments import encrypt_arguments
from async_jobs.engine.ledger.redact import readable_arguments
from async_jobs.engine.ledger.status import HELD_BY_QUEUE, HELD_BY_RATE, JobStatus
from async_jobs.engine.submit import backpressure, flow
from async_jobs.engine.submit.flow import OPTIONS as FLOW_OPTIONS
from async_jobs.engine.submit.resolve import MAX_ARGUMENT_BYTES, Resolved, check_arguments, resolve
from async_jobs.engine.transport import realtime, rq_jobs

FIELDS = (
	"name",
	"kind",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"job_type",
	"method",
	"queue",
	"timeout",
	"at_front",
	"status",
	"queued_at",
	"reference_doctype",
	"reference_name",
	"batch",
	"arguments",
	"encrypted_arguments",
	"max_attempts",
	"notify",
	"email_owner",
	"retry_policy",
	"rq_job_id",
	"concurrency_limit",
	"concurrency_key",
	"rate_limit",
	"rate_key",
	"expires_at",
	"held_by",
	"run_at",
)
INSERT = (
	f"INSERT INTO `tabAsync Job` ({', '.join(f'`{f}`' for f in FIELDS)})"
	f" VALUES ({', '.join(['%s'] * len(FIELDS))})"
)


def enqueue_many(
	method,
	items: Iterable[dict],
	*,
	queue: str | None = None,
	timeout: int | None = None,
	at_front: bool = False,
	retry=None,
	notify: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	job_type: str | None = None,
	batch: str | None = None,
	**flow_given,
) -> list[str]:
	"""Track and enqueue `method(**kwargs)` for each kwargs in `items`, in the caller's transaction (the RQ jobs
	are pushed after it commits). Returns the Async Job names, in order. `flow_given`: enqueue()'s flow-control
	options (concurrency_limit, concurrency_key, rate_limit, rate_key, expires_in, expires_at)."""
	unknown = set(flow_given) - set(FLOW_OPTIONS)
	if unknown:
		frappe.throw(_("Unknown options: {0}").format(", ".join(sorted(unknown))), frappe.ValidationError)
	options = resolve(method, job_type, queue, timeout, retry, notify, flow_given=flow_given)
	return insert_many(options, items, at_front, reference_doctype, reference_name, batch)


def insert_many(
	options: Resolved,
	items: Iterable[dict],
	at_front: bool = False,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	batch: str | None = None,
) -> list[str]:
	"""enqueue_many() with options resolved already (a batch resolves its children's once)."""
	now, user = now_datetime(), frappe.session.user
	site = frappe.local.site
	constant = {
		**options.fields(at_front, reference_doctype, reference_name, batch),
		"creation": now,
		"modified": now,
		"owner": user,
		"modified_by": user,
		"status": JobStatus.QUEUED.value,
		"kind": "Tracked",
		"queued_at": now,
		"concurrency_limit": 0,
		"concurrency_key": None,
		"rate_limit": None,
		"rate_key": None,
		"expires_at": None,
		"held_by": None,
		"run_at": None,
	}
	held = {"status": JobStatus.HELD.value, "held_by": HELD_BY_QUEUE}
	spread = {"status": JobStatus.SCHEDULED.value, "queued_at": None, "held_by": HELD_BY_RATE}
	room = backpressure.room(options.queue)
	# jobs: pushed after the commit; kept: held in the ledger until the queue drains
	rows, jobs, kept = [], [], []
	planned = []  # (row, kwargs) of every job; a rate limit's planned starts decide where each goes
	for kwargs in items:
		if not isinstance(kwargs, dict):
			frappe.throw(_("Job arguments must be a dictionary"), frappe.ValidationError)
		try:
			encrypted = encrypt_arguments(kwargs)
		except Exception:
			check_arguments(kwargs)  # the readable error (not picklable)
			raise
		if (
			len(encrypted) > MAX_ARGUMENT_BYTES
		):  # encrypted is about 1.8x pickled: only then measure precisely
			check_arguments(kwargs)
		name = frappe.generate_hash(length=10)
		row = {
			**constant,
			"name": name,
			"arguments": readable_arguments(kwargs),
			"encrypted_arguments": encrypted,
			"rq_job_id": rq_jobs.full_rq_job_id(name, 1, site),
			**options.flow.fields(kwargs),
		}
		planned.append((row, kwargs))
	starts = flow.reserve_starts(
		options.flow,
		options.fields(0, None, None, None)["job_type"],
		[(row["name"], row["rate_key"]) for row, _ in planned],
	)
	later = []  # (name, kwargs, run_at): their rate limit starts them later, through the delayed set
	for (row, kwargs), start_in in zip(planned, starts, strict=True):
		if start_in > flow.MOVED_AFTER:
			run_at = now + timedelta(seconds=start_in)
			row.update({**spread, "run_at": run_at})
			later.append((row["name"], kwargs, run_at))
		elif len(jobs) < room:
			jobs.append((row["name"], kwargs))
		else:  # beyond the queue's bound: fed as it drains
			row.update(held)
			kept.append((row["name"], kwargs))
		rows.append(tuple(row[f] for f in FIELDS))
	if not rows:
		return []
	frappe.db.sql("SELECT 1")  # opens the transaction and the cursor frappe.db would use
	frappe.db._cursor.executemany(INSERT, rows)  # pymysql sends multi-row INSERTs
	backpressure.will_push(options.queue, len(jobs))
	job_type = constant.get("job_type")

	def push():
		rq_jobs.push_many(
			jobs,
			user,
			options.queue,
			options.timeout,
			bool(at_front),
			job_type=job_type,
			flow=options.flow.any,
		)
		for name, kwargs, run_at in later:
			rq_jobs.push(
				name,
				user,
				options.queue,
				options.timeout,
				kwargs,
				bool(at_front),
				run_at=run_at,
				job_type=job_type,
				flow=True,
			)
		if kept:
			backpressure.mark(options.queue)
		if jobs:  # one message for them all (the Job Monitor refreshes on it), named after the first
			first = frappe._dict(constant, name=jobs[0][0])
			realtime.announce("async_jobs:progress", first, JobStatus.QUEUED.value, count=len(jobs))

	frappe.db.after_commit.add(push)
	return [row["name"] for row, _ in planned]
