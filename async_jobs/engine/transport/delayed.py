"""The bench-wide delayed set: RQ jobs saved at once, their ids kept in the sorted set `async_jobs:delayed` (score =
due time) until `stage_due` moves them onto their queues. Bench workers run no RQ scheduler, so `stage_due` is called
by the stager process (which marks itself alive under STAGER_KEY), by every tracked job as it starts and ends, and
by the site scheduler once a minute as a backstop."""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_system_timezone
from frappe.utils.background_jobs import get_redis_conn
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.timeouts import BaseTimeoutException

DELAYED_KEY = "async_jobs:delayed"
STAGER_KEY = "async_jobs:stager"  # set by the stager process every round, with a short expiry

RETRY_FAILED_AFTER = 30.0  # seconds before a job that could not be staged is tried again

# Pop due members (with their scores) atomically: two stagers never move the same job.
_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do redis.call('ZREM', KEYS[1], due[i]) end
return due
"""


def hold(conn, rq_id: str, run_at: datetime) -> None:
	"""Keep a saved RQ job out of its queue until `run_at`."""
	conn.zadd(DELAYED_KEY, {rq_id: epoch(run_at)})


def release(conn, rq_id: str) -> bool:
	"""Take a job out of the delayed set; True if it was there."""
	return bool(conn.zrem(DELAYED_KEY, rq_id))


def epoch(when: datetime) -> float:
	"""Seconds since the epoch of a naive datetime in the site's time zone (how Frappe stores datetimes)."""
	if when.tzinfo is None:
		when = when.replace(tzinfo=ZoneInfo(get_system_timezone()))
	return when.timestamp()


def stage_due(limit: int = 500, now: float | None = None) -> int:
	"""Move delayed jobs whose time has come onto their queues; return how many moved. A job that cannot be moved
	(its RQ hash unreadable, say) waits RETRY_FAILED_AFTER seconds in the set and the others go on; a pass cut
	short (a worker's timeout alarm inside a job, a signal) puts back every popped job it did not move."""
	conn = get_redis_conn()
	now = now or time.time()
	popped = conn.eval(_POP_DUE, 1, DELAYED_KEY, now, limit)
	due = [(_text(job_id), float(score)) for job_id, score in zip(popped[::2], popped[1::2], strict=True)]
	moved = 0
	try:
		while due:
			job_id, _score = due[0]
			try:
				moved += _move(conn, job_id)
			except BaseTimeoutException:
				raise
			except Exception:
				frappe.logger("async_jobs.delayed", allow_site=False).exception(
					f"could not stage delayed job {job_id}; trying again later"
				)
				conn.zadd(DELAYED_KEY, {job_id: now + RETRY_FAILED_AFTER})
			due.pop(0)
	finally:
		if due:
			conn.zadd(DELAYED_KEY, dict(due))
	return moved


def _move(conn, job_id: str) -> int:
	try:
		job = Job.fetch(job_id, connection=conn)
	except NoSuchJobError:
		return 0  # cancelled meanwhile, or lost with Redis: the lifeline reconciles the ledger
	Queue(job.origin, connection=conn).enqueue_job(job, at_front=bool(job.meta.get("at_front")))
	return 1


def _text(value) -> str:
	return value.decode() if isinstance(value, bytes) else value


def next_due(now: float | None = None) -> float | None:
	"""Seconds until the earliest delayed job is due (0 if one is overdue), None if none waits."""
	first = get_redis_conn().zrange(DELAYED_KEY, 0, 0, withscores=True)
	if not first:
		return None
	return max(0.0, first[0][1] - (now or time.time()))
