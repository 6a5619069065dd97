"""RQ is the transport: push a tracked job onto its queue now, or hold it in a bench-wide delayed set until its time.

Jobs go through Frappe's own `execute_job` (site init, user, before_job/after_job hooks, commit/rollback), built
exactly as `frappe.enqueue` builds them. Delayed jobs are saved in RQ at once and their ids kept in the sorted set
`async_jobs:delayed` (score = due time); `stage_due` moves due ones onto their queues. Bench workers run no RQ
scheduler, so `stage_due` is called by the stager process, by every tracked job as it starts and ends, and by the
site scheduler once a minute as a backstop.
"""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_system_timezone
from frappe.utils.background_jobs import (
	RQ_JOB_FAILURE_TTL,
	RQ_RESULTS_TTL,
	execute_job,
	get_queue,
	get_redis_conn,
	truncate_failed_registry,
)
from rq import Callback, Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

EXECUTOR = "async_jobs.engine.executor.run"
DELAYED_KEY = "async_jobs:delayed"

# Pop due members atomically: two stagers never move the same job.
_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
return due
"""


def rq_job_id(name: str, attempt: int = 1) -> str:
	"""The RQ id of an attempt, un-namespaced (as Frappe's get_job / is_job_enqueued take it)."""
	return f"async_job::{name}" if attempt <= 1 else f"async_job::{name}::{attempt}"


def full_rq_job_id(name: str, attempt: int = 1, site: str | None = None) -> str:
	return f"{site or frappe.local.site}::{rq_job_id(name, attempt)}"


def push(
	name: str,
	queue: str,
	timeout: int,
	kwargs: dict,
	at_front: bool = False,
	run_at: datetime | None = None,
	attempt: int = 1,
):
	"""Create the RQ job for attempt `attempt` of Async Job `name`; queue it now, or hold it until `run_at`."""
	q = get_queue(queue)
	job = q.create_job(execute_job, **_job_options(name, kwargs, timeout, at_front, attempt))
	if run_at is None:
		q.enqueue_job(job, at_front=at_front)
	else:
		job.save()
		q.connection.zadd(DELAYED_KEY, {job.id: epoch(run_at)})
	return job


def push_many(
	jobs: list[tuple[str, dict]], queue: str, timeout: int, at_front: bool = False, chunk: int = 1000
):
	"""Create and queue the first attempt of many tracked jobs, (name, kwargs) each, one Redis pipeline per chunk."""
	q = get_queue(queue)
	for start in range(0, len(jobs), chunk):
		q.enqueue_many(
			[
				Queue.prepare_data(
					execute_job, at_front=at_front, **_job_options(name, kwargs, timeout, at_front)
				)
				for name, kwargs in jobs[start : start + chunk]
			]
		)


def _job_options(name: str, kwargs: dict, timeout: int, at_front: bool, attempt: int = 1) -> dict:
	"""The RQ job of an attempt, as frappe.enqueue builds one: Frappe's execute_job runs our executor for the
	site and the enqueuing user."""
	return {
		"kwargs": {
			"site": frappe.local.site,
			"user": frappe.session.user,
			"method": EXECUTOR,
			"event": None,
			"job_name": EXECUTOR,
			"is_async": True,
			"kwargs": {"async_job": name, "job_kwargs": kwargs},
		},
		"timeout": timeout,
		"result_ttl": frappe.conf.get("rq_results_ttl") or RQ_RESULTS_TTL,
		"failure_ttl": frappe.conf.get("rq_job_failure_ttl") or RQ_JOB_FAILURE_TTL,
		"job_id": full_rq_job_id(name, attempt),
		"on_failure": Callback(func=truncate_failed_registry),
		"meta": {"async_job": name, "at_front": bool(at_front)},
	}


def epoch(when: datetime) -> float:
	"""Seconds since the epoch of a naive datetime in the site's time zone (how Frappe stores datetimes)."""
	if when.tzinfo is None:
		when = when.replace(tzinfo=ZoneInfo(get_system_timezone()))
	return when.timestamp()


def stage_due(limit: int = 500, now: float | None = None) -> int:
	"""Move delayed jobs whose time has come onto their queues; return how many moved."""
	conn = get_redis_conn()
	due = conn.eval(_POP_DUE, 1, DELAYED_KEY, now or time.time(), limit)
	for job_id in due:
		try:
			job = Job.fetch(job_id.decode() if isinstance(job_id, bytes) else job_id, connection=conn)
		except NoSuchJobError:
			continue  # cancelled meanwhile, or lost with Redis: the lifeline reconciles the ledger
		Queue(job.origin, connection=conn).enqueue_job(job, at_front=bool(job.meta.get("at_front")))
	return len(due)


def next_due(now: float | None = None) -> float | None:
	"""Seconds until the earliest delayed job is due (0 if one is overdue), None if none waits."""
	first = get_redis_conn().zrange(DELAYED_KEY, 0, 0, withscores=True)
	if not first:
		return None
	return max(0.0, first[0][1] - (now or time.time()))


def exists(rq_id: str) -> bool:
	"""Whether RQ still has this job (queued, delayed, running or kept after its end)."""
	return Job.exists(rq_id, connection=get_redis_conn())


def remove(rq_id: str) -> bool:
	"""Take a job that has not started out of RQ (its queue, the delayed set); True if anything was removed."""
	conn = get_redis_conn()
	removed = bool(conn.zrem(DELAYED_KEY, rq_id))
	try:
		job = Job.fetch(rq_id, connection=conn)
	except NoSuchJobError:
		return removed
	if job.get_status() in ("queued", "deferred", "scheduled") or removed:
		job.cancel()
		job.delete()
		return True
	return removed
