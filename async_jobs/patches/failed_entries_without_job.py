"""Earlier versions enqueued a recovered job again under the RQ id of its failed RQ job (one that failed before
the job started: MariaDB restarting, an executor path moved by an upgrade). The new job's hash replaced the failed
one while the failed registry kept the id, so once the new job's result expired the entry had no job behind it for
up to 7 days: Frappe can neither show nor remove it, and its failed-jobs limits and tests count it. Remove this
site's entries of that kind once (RQ ids are now never pushed twice)."""

import frappe
import redis
from frappe.utils.background_jobs import get_queues, get_redis_conn
from rq.job import Job


def execute():
	try:
		remove_entries_without_job(get_redis_conn(), f"{frappe.local.site}::async_job::")
	except redis.RedisError:
		pass  # Redis unreachable now: the entries expire with their 7 days


def remove_entries_without_job(conn, prefix: str) -> int:
	removed = 0
	for queue in get_queues(connection=conn):
		registry = queue.failed_job_registry
		ids = [rq_id for rq_id in registry.get_job_ids() if rq_id.startswith(prefix)]
		pipe = conn.pipeline(transaction=False)
		for rq_id in ids:
			pipe.exists(Job.key_for(rq_id))
		gone = [rq_id for rq_id, exists in zip(ids, pipe.execute(), strict=True) if not exists]
		if gone:
			removed += conn.zrem(registry.key, *gone)
	return removed
