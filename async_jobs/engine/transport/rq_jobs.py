"""RQ is the transport: push a tracked job onto its queue now, or hold it in the delayed set until its time.

Jobs go through Frappe's own `execute_job` (site init, user, before_job/after_job hooks, commit/rollback), built
exactly as `frappe.enqueue` builds them, with the executor as the method. Each push has an RQ id of its own and
runs as the job's owner (the ledger row's), whoever pushes it: the lifeline, the stager, a manager's retry.
"""

from datetime import datetime

import frappe
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

from async_jobs.engine.transport import delayed

# The method every tracked RQ job names (a dotted path stored in Redis with each queued job).
EXECUTOR = "async_jobs.engine.run.executor.run"


def rq_job_id(name: str, push: int = 1) -> str:
	"""The RQ id of the `push`-th RQ job of Async Job `name`, un-namespaced (as Frappe's get_job /
	is_job_enqueued take it): `async_job::<name>`, then `async_job::<name>::2`, `::3`, … for each retry, snooze,
	recovery or retry by hand. No id is pushed twice: a second RQ job under an id RQ still knows would replace
	that job's hash while RQ's registries keep the id — a failed-registry entry then outlives the later job's
	result by days, with no job behind it, and Frappe can neither show nor remove it."""
	return f"async_job::{name}" if push <= 1 else f"async_job::{name}::{push}"


def full_rq_job_id(name: str, push: int = 1, site: str | None = None) -> str:
	return f"{site or frappe.local.site}::{rq_job_id(name, push)}"


def push_number(name: str, rq_id: str | None) -> int:
	"""Which push of job `name` the RQ id `rq_id` is (1 for the first, or for none)."""
	_, _, rest = (rq_id or "").partition(f"async_job::{name}::")
	return int(rest) if rest.isdigit() else 1


def push(
	name: str,
	owner: str,
	queue: str,
	timeout: int,
	kwargs: dict,
	at_front: bool = False,
	run_at: datetime | None = None,
	push_no: int = 1,
	job_type: str | None = None,
	flow: bool = False,
):
	"""Create the `push_no`-th RQ job of Async Job `name`, run as `owner` (the row's); queue it now, or hold it
	until `run_at`. `flow`: the job has flow-control options (its start passes engine/run/gate.py)."""
	q = get_queue(queue)
	job = q.create_job(
		execute_job, **_job_options(name, owner, kwargs, timeout, at_front, push_no, job_type, flow)
	)
	if run_at is None:
		q.enqueue_job(job, at_front=at_front)
	else:
		pipe = q.connection.pipeline()  # the job and its place in the delayed set in one round trip
		job.save(pipeline=pipe)
		delayed.hold(pipe, job.id, run_at)
		pipe.execute()
	return job


def push_many(
	jobs: list[tuple[str, dict]],
	owner: str,
	queue: str,
	timeout: int,
	at_front: bool = False,
	chunk: int = 1000,
	job_type: str | None = None,
	flow: bool = False,
):
	"""Create and queue the first push of many tracked jobs of one owner, (name, kwargs) each, one Redis
	pipeline per chunk."""
	q = get_queue(queue)
	for start in range(0, len(jobs), chunk):
		q.enqueue_many(
			[
				Queue.prepare_data(
					execute_job,
					at_front=at_front,
					**_job_options(name, owner, kwargs, timeout, at_front, job_type=job_type, flow=flow),
				)
				for name, kwargs in jobs[start : start + chunk]
			]
		)


def _job_options(
	name: str,
	owner: str,
	kwargs: dict,
	timeout: int,
	at_front: bool,
	push_no: int = 1,
	job_type: str | None = None,
	flow: bool = False,
) -> dict:
	"""The `push_no`-th RQ job of a tracked job, as frappe.enqueue builds one: Frappe's execute_job runs our executor for the
	site and the job's owner (never the session user of whoever pushes the attempt). Its `job_name` (what
	Frappe's RQ Job list shows) and RQ description say what runs: the job type or the method."""
	if not owner:
		raise ValueError(f"Async Job {name} has no owner to run as")
	what = job_type or EXECUTOR
	return {
		"description": f"async_jobs {what} (Async Job {name})",
		"kwargs": {
			"site": frappe.local.site,
			"user": owner,
			"method": EXECUTOR,
			"event": None,
			"job_name": what,
			"is_async": True,
			"kwargs": {"async_job": name, "job_kwargs": kwargs, **({"flow": True} if flow else {})},
		},
		"timeout": timeout,
		"result_ttl": frappe.conf.get("rq_results_ttl") or RQ_RESULTS_TTL,
		"failure_ttl": frappe.conf.get("rq_job_failure_ttl") or RQ_JOB_FAILURE_TTL,
		"job_id": full_rq_job_id(name, push_no),
		"on_failure": Callback(func=truncate_failed_registry),
		"meta": {"async_job": name, "at_front": bool(at_front)},
	}


def exists(rq_id: str) -> bool:
	"""Whether RQ still has this job (queued, delayed, running or kept after its end)."""
	return Job.exists(rq_id, connection=get_redis_conn())


def remove(rq_id: str) -> bool:
	"""Take a job that has not started out of RQ (its queue, the delayed set); True if anything was removed."""
	conn = get_redis_conn()
	removed = delayed.release(conn, rq_id)
	try:
		job = Job.fetch(rq_id, connection=conn)
	except NoSuchJobError:
		return removed
	if job.get_status() in ("queued", "deferred", "scheduled") or removed:
		job.cancel()
		job.delete()
		return True
	return removed
