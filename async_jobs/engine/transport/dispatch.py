"""Enqueue an existing job again — a retry after backoff, a snooze, a manual retry, a recovery after Redis lost
it — from the ledger: its queue, timeout and encrypted arguments. Each push gets an RQ id of its own, one past
the row's current one (rq_jobs.rq_job_id)."""

from datetime import datetime

import frappe

from async_jobs.engine.ledger.arguments import decrypt_arguments
from async_jobs.engine.transport import rq_jobs


class CannotDispatch(Exception):
	pass


def dispatch(name: str, run_at: datetime | None = None, db=None) -> str:
	"""Push job `name` again (now, or at `run_at`); return the new RQ id."""
	db = db or frappe.db
	row = db.sql(
		"SELECT owner, job_type, queue, timeout, at_front, rq_job_id, encrypted_arguments,"
		" concurrency_limit, rate_limit, expires_at FROM `tabAsync Job`"
		" WHERE name = %s",
		name,
		as_dict=True,
	)[0]
	if not row.encrypted_arguments:
		raise CannotDispatch(f"job {name} has no stored arguments to run again with")
	try:
		kwargs = decrypt_arguments(row.encrypted_arguments)
	except Exception as e:  # the site's key changed, a class in them is gone, the text is damaged
		raise CannotDispatch(f"its stored arguments cannot be opened ({type(e).__name__}: {e})"[:500]) from e
	rq_job = rq_jobs.push(
		name,
		row.owner,
		row.queue,
		row.timeout,
		kwargs,
		bool(row.at_front),
		run_at=run_at,
		push_no=rq_jobs.push_number(name, row.rq_job_id) + 1,
		job_type=row.job_type,
		flow=bool(row.concurrency_limit or row.rate_limit or row.expires_at),
	)
	db.sql("UPDATE `tabAsync Job` SET rq_job_id = %s WHERE name = %s", (rq_job.id, name))
	return rq_job.id
