"""The bench-wide delayed set: RQ jobs saved at once, their ids kept in the sorted set `async_jobs:delayed` (score =
due time) until `stage_due` moves them onto their queues. Bench workers run no RQ scheduler, so `stage_due` is called
by the stager process (which marks itself alive under STAGER_KEY), by every tracked job as it starts and ends, and
by the site scheduler once a minute as a backstop."""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from frappe.utils import get_system_timezone
from frappe.utils.background_jobs import get_redis_conn
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

DELAYED_KEY = "async_jobs:delayed"
STAGER_KEY = "async_jobs:stager"  # set by the stager process every round, with a short expiry

# Pop due members atomically: two stagers never move the same job.
_POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
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
