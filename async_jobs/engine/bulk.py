"""Enqueue many tracked jobs of one function at once: multi-row INSERTs into the ledger and pipelined RQ pushes.

The same rows and RQ jobs as enqueue() makes one by one, at a fraction of the cost per job; for jobs without a
delay or a dedup key (use enqueue() for those). Batches use it for their children.
"""

import json
from collections.abc import Iterable

import frappe
from frappe import _
from frappe.utils import cint, now_datetime
from frappe.utils.background_jobs import get_queues_timeout

from async_jobs.engine import transport
from async_jobs.engine.arguments import seal
from async_jobs.engine.enqueue import MAX_ARGUMENT_BYTES, _resolve, _retry_policy, _validate
from async_jobs.engine.notify import NOTIFY_MODES
from async_jobs.engine.redact import redact
from async_jobs.engine.status import JobStatus

FIELDS = (
	"name",
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
) -> list[str]:
	"""Track and enqueue `method(**kwargs)` for each kwargs in `items`, in the caller's transaction (the RQ jobs
	are pushed after it commits). Returns the Async Job names, in order."""
	spec, path = _resolve(method, job_type)
	queue = queue or (spec.queue if spec else "default")
	timeout = timeout if timeout is not None else (spec.timeout if spec else None)
	_validate(path, queue, timeout, {})
	timeout = timeout or get_queues_timeout()[queue]
	policy = _retry_policy(retry if retry is not None else (spec.retry if spec else None))
	notify = notify or (spec.notify if spec else None) or "On Failure"
	if notify not in NOTIFY_MODES:
		frappe.throw(_("notify must be one of {0}").format(", ".join(NOTIFY_MODES)), frappe.ValidationError)

	now, user = now_datetime(), frappe.session.user
	site = frappe.local.site
	constant = {
		"creation": now,
		"modified": now,
		"owner": user,
		"modified_by": user,
		"job_type": spec.name if spec else path,
		"method": path,
		"queue": queue,
		"timeout": timeout,
		"at_front": cint(at_front),
		"status": JobStatus.QUEUED.value,
		"queued_at": now,
		"reference_doctype": reference_doctype,
		"reference_name": reference_name,
		"batch": batch,
		"max_attempts": policy.max_attempts,
		"notify": notify,
		"email_owner": cint(bool(spec and spec.email_on_finish)),
		"retry_policy": json.dumps(policy.to_dict()),
	}
	rows, jobs = [], []
	for kwargs in items:
		if not isinstance(kwargs, dict):
			frappe.throw(_("Job arguments must be a dictionary"), frappe.ValidationError)
		try:
			sealed = seal(kwargs)
		except Exception:
			_validate(path, queue, timeout, kwargs)  # the readable error (not picklable)
			raise
		if len(sealed) > MAX_ARGUMENT_BYTES:  # sealed is about 1.8x pickled: only then measure precisely
			_validate(path, queue, timeout, kwargs)
		name = frappe.generate_hash(length=10)
		row = {
			**constant,
			"name": name,
			"arguments": json.dumps(redact(kwargs), indent=1, sort_keys=True, default=str),
			"encrypted_arguments": sealed,
			"rq_job_id": transport.full_rq_job_id(name, 1, site),
		}
		rows.append(tuple(row[f] for f in FIELDS))
		jobs.append((name, kwargs))
	if not rows:
		return []
	frappe.db.sql("SELECT 1")  # opens the transaction and the cursor frappe.db would use
	frappe.db._cursor.executemany(INSERT, rows)  # pymysql sends multi-row INSERTs
	frappe.db.after_commit.add(lambda: transport.push_many(jobs, queue, timeout, bool(at_front)))
	return [name for name, _ in jobs]
