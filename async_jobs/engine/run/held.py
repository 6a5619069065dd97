"""Held jobs back onto their queues: when a concurrency slot frees, the oldest job held for it gets the slot
reserved and is pushed again (fill); when a queue drains, the jobs held back for its bound follow (feed).

Called by the after-end seam (ended.py) as soon as an attempt frees a slot, by a worker that held a job (the slot
may have freed in between), and by the lifeline pass of the stager and the scheduler as a backstop (a lapsed lease,
a lost Redis). Two of them releasing at once never push one job twice: the reservation is taken in Redis first and
the row moves Held → Queued by compare-and-set; whoever loses gives back only what it took itself."""

import frappe
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.arguments import decrypt_arguments
from async_jobs.engine.ledger.status import HELD_BY_LIMIT, HELD_BY_QUEUE, JobStatus
from async_jobs.engine.submit import backpressure
from async_jobs.engine.submit.flow import group_id, rate_group_id
from async_jobs.engine.transport import limits, rq_jobs
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

BATCH = 20


def logger():
	return frappe.logger("async_jobs.held", allow_site=False)


def concurrency_group(row) -> str:
	"""The Redis group of a job's concurrency limit (a row with job_type and concurrency_key)."""
	return group_id(frappe.local.site, row.job_type, row.concurrency_key)


def rate_group(row) -> str:
	"""The Redis group of a job's rate limit (a row with job_type and rate_key)."""
	return rate_group_id(frappe.local.site, row.job_type, row.rate_key)


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
			limits.unmark_held(conn, group)  # none left: releases need not look (the lifeline still does)
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


def feed(queue: str) -> int:
	"""Push jobs held back for `queue` (backpressure), oldest first, while it has room under its bound; returns
	how many. One feeder per site and queue at a time (a Redis lock); the marker goes when none is left."""
	conn, site = get_redis_conn(), frappe.local.site
	lock = f"async_jobs:feeding:{site}:{queue}"
	if not conn.set(lock, 1, nx=True, ex=60):
		return 0
	try:
		room = backpressure.bound() - backpressure.depth(conn, queue)
		if room <= 0:
			return 0
		rows = frappe.db.sql(
			"""SELECT name, owner, timeout, at_front, encrypted_arguments, concurrency_limit, rate_limit, expires_at
			FROM `tabAsync Job` WHERE status = %s AND queue = %s AND held_by = %s
			ORDER BY creation, name LIMIT %s FOR UPDATE SKIP LOCKED""",
			(JobStatus.HELD.value, queue, HELD_BY_QUEUE, room),
			as_dict=True,
		)
		if rows:
			frappe.db.sql(
				"UPDATE `tabAsync Job` SET status = %s, held_by = NULL, modified = NOW(6) WHERE name IN %s",
				(JobStatus.QUEUED.value, tuple(r.name for r in rows)),
			)
		frappe.db.commit()
		groups: dict[tuple, list] = {}
		for r in rows:
			try:
				kwargs = decrypt_arguments(r.encrypted_arguments)
			except Exception as e:
				lose(r.name, f"its stored arguments cannot be opened ({type(e).__name__}: {e})")
				continue
			flow = bool(r.concurrency_limit or r.rate_limit or r.expires_at)
			groups.setdefault((r.owner, r.timeout, bool(r.at_front), flow), []).append((r.name, kwargs))
		for (owner, timeout, at_front, flow), jobs in groups.items():
			rq_jobs.push_many(jobs, owner, queue, timeout, at_front, flow=flow)
		if len(rows) < room:
			backpressure.unmark(queue)
			if frappe.db.sql(
				"SELECT 1 FROM `tabAsync Job` WHERE status = %s AND queue = %s AND held_by = %s LIMIT 1",
				(JobStatus.HELD.value, queue, HELD_BY_QUEUE),
			):
				backpressure.mark(queue)  # a batch held more meanwhile
		return len(rows)
	finally:
		conn.delete(lock)


def feed_due(min_share: float = 0.1) -> list[tuple[str, str]]:
	"""(site, queue) of every queue some site holds jobs back for that has room for a tenth of its bound now (or
	is empty): bench-wide, for the stager's round."""
	conn, due = get_redis_conn(), []
	for site, queue, bound in backpressure.marked():
		waiting = backpressure.depth(conn, queue)
		if bound - waiting > 0 and (bound - waiting >= bound * min_share or not waiting):
			due.append((site, queue))
	return due


def feed_sites(due: list[tuple[str, str]]) -> int:
	"""feed() each (site, queue) in its own site context (the stager runs outside any site)."""
	fed = 0
	for site, queue in due:
		try:
			frappe.init(site=site)
			frappe.connect()
			fed += feed(queue)
		except Exception:
			logger().exception(f"could not feed held jobs of {site} to {queue}")
		finally:
			frappe.destroy()
	return fed


def feed_held_queues() -> int:
	"""The backstop (lifeline pass): this site's queues with jobs held back get their marker again (should Redis
	have lost it) and are fed if they have room."""
	fed = 0
	for (queue,) in frappe.db.sql(
		"SELECT DISTINCT queue FROM `tabAsync Job` WHERE status = %s AND held_by = %s",
		(JobStatus.HELD.value, HELD_BY_QUEUE),
	):
		backpressure.mark(queue)
		fed += feed(queue)
	return fed
