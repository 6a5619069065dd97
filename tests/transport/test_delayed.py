"""The delayed set: a job whose RQ hash cannot be read is kept for later and never costs the due jobs after it
their move onto the queue (no worker: the queue itself is read)."""

import time
import uuid

import frappe
from frappe.utils.background_jobs import get_queue, get_redis_conn
from rq.job import Job

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.transport.delayed import DELAYED_KEY, stage_due
from tests.support.checks import row


def test_a_job_that_cannot_be_staged_stays_delayed_and_the_due_jobs_after_it_are_staged():
	conn = get_redis_conn()
	names = [
		async_jobs.enqueue("async_jobs.testing.jobs.add", {"a": i, "b": i}, queue="short", delay=3600).name
		for i in range(2)
	]
	frappe.db.commit()
	damaged = f"{frappe.local.site}::aj-damaged-{uuid.uuid4().hex}"
	conn.hset(Job.key_for(damaged), mapping={"data": "x", "created_at": "not a date", "origin": "short"})
	rq_ids = [row(name).rq_job_id for name in names]
	now = time.time()
	conn.zadd(DELAYED_KEY, {damaged: now - 30, **{rq_id: now - 10 for rq_id in rq_ids}})  # all due, it first
	try:
		staged = stage_due()

		assert set(rq_ids) <= set(get_queue("short").job_ids), "due jobs behind the damaged one were dropped"
		assert staged >= 2
		assert conn.zscore(DELAYED_KEY, damaged) > now, "the damaged job left the delayed set"
	finally:
		conn.zrem(DELAYED_KEY, damaged)
		conn.delete(Job.key_for(damaged))
		for name in names:
			cancel_job(name)
		frappe.db.commit()
