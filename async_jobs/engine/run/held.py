"""Held jobs back onto their queues: when a concurrency slot frees, the oldest job held for it gets the slot
reserved and is pushed again.

Called by the after-end seam (ended.py) as soon as an attempt frees a slot, by a worker that held a job (the slot
may have freed in between), and by the lifeline pass of the stager and the scheduler as a backstop (a lapsed lease,
a lost Redis). Two of them releasing at once never push one job twice: the reservation is taken in Redis first and
the row moves Held → Queued by compare-and-set; whoever loses gives back only what it took itself."""

import frappe
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.status import HELD_BY_LIMIT, JobStatus
from async_jobs.engine.submit.flow import group_id
from async_jobs.engine.transport import limits
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

BATCH = 20


def logger():
	return frappe.logger("async_jobs.held", allow_site=False)


def concurrency_group(row) -> str:
	"""The Redis group of a job's concurrency limit (a row with job_type and concurrency_key)."""
	return group_id(frappe.local.site, row.job_type, row.concurrency_key)


def rate_group(row) -> str:
	"""The Redis group of a job's rate limit (a row with job_type and rate_key)."""
	return group_id(frappe.local.site, row.job_type, f"rate\x1f{row.rate_key or ''}")


def fill(job_type: str, key: str | None) -> int:
	"""Release held jobs of this job type and key, oldest first, while the limit has free slots; returns how
	many were pushed. Commits on frappe.db."""
	conn, group, pushed = get_redis_conn(), group_id(frappe.local.site, job_type, key), 0
	while True:
		rows = frappe.db.sql(
			"""SELECT name, concurrency_limit FROM `tabAsync Job`
			WHERE status = %s AND job_type = %s AND IFNULL(concurrency_key, '') = %s AND held_by = %s
			ORDER BY creation, name LIMIT %s""",
			(JobStatus.HELD.value, job_type, key or "", HELD_BY_LIMIT, BATCH),
			as_dict=True,
		)
		if not rows:
			return pushed
		for row in rows:
			taken, _count = limits.reserve(conn, group, row.name, row.concurrency_limit or 1)
			if taken == limits.FULL:
				return pushed
			if taken == limits.HELD_ALREADY:
				continue  # another releaser reserved it a moment ago and pushes it
			if not lifecycle.transition(row.name, "release"):
				frappe.db.rollback()
				limits.release(conn, group, row.name, 0)  # cancelled or expired meanwhile: give back our slot
				continue
			try:
				dispatch(row.name)
				frappe.db.commit()
				pushed += 1
			except CannotDispatch as e:
				frappe.db.rollback()
				lose(row.name, str(e))
				limits.release(conn, group, row.name, 0)
		if len(rows) < BATCH:
			return pushed


def lose(name: str, reason: str) -> None:
	from async_jobs.engine.run.ended import attempt_ended

	if lifecycle.transition(name, "lose", error=reason[:1000]):
		frappe.db.commit()
		attempt_ended(name)


def fill_all() -> int:
	"""The backstop: every group of this site with held jobs."""
	groups = frappe.db.sql(
		"SELECT DISTINCT job_type, concurrency_key FROM `tabAsync Job` WHERE status = %s AND held_by = %s",
		(JobStatus.HELD.value, HELD_BY_LIMIT),
	)
	pushed = 0
	for job_type, key in groups:
		try:
			pushed += fill(job_type, key)
		except Exception:
			frappe.db.rollback()
			logger().exception(f"could not release held jobs of {job_type} {key}")
	return pushed
