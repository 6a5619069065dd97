"""The worker-side pipeline of a tracked job: record_started → perform → record_outcome → notify.

RQ runs `run` through Frappe's execute_job, so the site is initialised, the enqueuing user is set, and
before_job / after_job hooks run as for any Frappe job. The job's own work is committed or rolled back as a whole;
ledger records go through a side connection and survive either way.
"""

import json
import traceback

import frappe
from frappe.utils import cstr
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from async_jobs.engine import lifecycle, notify, transport
from async_jobs.engine.monitor import JobMonitor
from async_jobs.engine.progress import JobCancelled, Progress
from async_jobs.engine.side_db import SideConnection
from async_jobs.engine.status import TRANSITIONS

RESULT_LIMIT = 4000


def run(async_job: str, job_kwargs: dict | None = None):
	transport.stage_due()  # a busy bench stages delayed jobs here, between its jobs
	side = SideConnection()
	monitor = None
	try:
		job = record_started(async_job, side)
		if job is None:
			return  # cancelled while it waited, or delivered twice: not ours to run
		monitor = JobMonitor(job.name)
		monitor.start()
		verb, fields = perform(job, job_kwargs or {}, side)
		monitor.stop()
		record_outcome(job, side, verb, fields)
		notify.job_ended(job.name)
	finally:
		if monitor:
			monitor.stop()
		frappe.local.async_job_progress = None
		side.close()


def record_started(name: str, side: SideConnection):
	rq_job = get_current_job()
	if not side.write(lifecycle.start, name, worker=getattr(rq_job, "worker_name", None)):
		return None
	return frappe.get_doc("Async Job", name)


def perform(job, kwargs: dict, side: SideConnection) -> tuple[str, dict]:
	"""Run the job's function; return (verb, ledger fields). Commits or rolls back the job's own work."""
	frappe.local.async_job_progress = Progress(job, side, frappe.cache)
	try:
		result = frappe.get_attr(job.method)(**kwargs)
		frappe.db.commit()
		return "complete", {"result": summarize(result)}
	except JobCancelled as e:
		frappe.db.rollback()
		return "cancel", {"error": cstr(e) or "Cancelled"}
	except JobTimeoutException as e:
		frappe.db.rollback()
		return "time_out", failure_fields(job, e)
	except Exception as e:
		frappe.db.rollback()
		return "fail", failure_fields(job, e)


def failure_fields(job, exc: BaseException) -> dict:
	error_log = frappe.log_error(
		title=f"Async Job {job.name}: {job.job_type}", reference_doctype="Async Job", reference_name=job.name
	)
	frappe.db.commit()
	return {
		"error": f"{type(exc).__name__}: {cstr(exc)}"[:1000],
		"traceback": traceback.format_exc(),
		"error_log": error_log.name,
	}


def record_outcome(job, side: SideConnection, verb: str, fields: dict) -> None:
	progress: Progress = frappe.local.async_job_progress
	progress.persist()
	fields["attempt_log"] = attempt_log(job.name, side, TRANSITIONS[verb][1].value, fields.get("error"))
	if not side.write(lifecycle.transition, job.name, verb, **fields):
		return  # hard-stopped or otherwise ended meanwhile: that record stands
	progress.publish("async_jobs:finished", status=TRANSITIONS[verb][1].value, error=fields.get("error"))
	transport.stage_due()


def attempt_log(name: str, side: SideConnection, status: str, error: str | None) -> str:
	"""The job's attempts so far plus this one (worker, start, end, outcome, error)."""
	# Raw SQL: Database.get_value builds its query through frappe.qb, which runs on frappe.db, not on side.db.
	row = side.db.sql(
		"SELECT attempt_log, attempts, worker, started_at FROM `tabAsync Job` WHERE name = %s",
		name,
		as_dict=True,
	)[0]
	log = json.loads(row.attempt_log or "[]")
	log.append(
		{
			"attempt": row.attempts,
			"worker": row.worker,
			"started_at": str(row.started_at),
			"ended_at": str(frappe.utils.now_datetime()),
			"status": status,
			"error": error,
		}
	)
	return json.dumps(log, indent=1)


def summarize(result) -> str | None:
	if result is None:
		return None
	try:
		text = json.dumps(result, default=str)
	except (TypeError, ValueError):
		text = json.dumps(repr(result))
	return text if len(text) <= RESULT_LIMIT else json.dumps({"truncated": text[:RESULT_LIMIT]})
