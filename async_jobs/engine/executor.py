"""The worker-side pipeline of a tracked job: record_started → perform → record_outcome → notify.

RQ runs `run` through Frappe's execute_job, so the site is initialised, the enqueuing user is set, and
before_job / after_job hooks run as for any Frappe job. The job's own work is committed or rolled back as a whole;
ledger records (start, progress, end) are made outside that transaction and survive either way. An attempt that
raises is retried, failed, timed out or discarded by the job's retry policy (outcome.decide).
"""

import json
import traceback
from datetime import timedelta

import frappe
from frappe.utils import cstr, now_datetime
from rq import get_current_job

from async_jobs.engine import batches, lifecycle, notify, transport
from async_jobs.engine.dispatch import dispatch
from async_jobs.engine.errors import JobCancelled, Snooze
from async_jobs.engine.monitor import JobMonitor
from async_jobs.engine.outcome import decide
from async_jobs.engine.progress import Progress
from async_jobs.engine.retry import RetryPolicy
from async_jobs.engine.side_db import SideConnection
from async_jobs.engine.status import TERMINAL, TRANSITIONS

RESULT_LIMIT = 4000
ROW_FIELDS = (
	"name",
	"owner",
	"job_type",
	"method",
	"attempts",
	"retry_policy",
	"reference_doctype",
	"reference_name",
	"batch",
)
RESCHEDULING = ("retry_later", "snooze")


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
		verb, delay, fields = perform(job, job_kwargs or {})
		monitor.stop()
		record_outcome(job, verb, delay, fields)
	finally:
		if monitor:
			monitor.stop()
		frappe.local.async_job_progress = None
		side.close()


def record_started(name: str, side: SideConnection):
	"""Record the start on frappe.db and commit: the job's own transaction has not begun yet."""
	rq_job = get_current_job()
	started = lifecycle.start(name, worker=getattr(rq_job, "worker_name", None))
	frappe.db.commit()
	if not started:
		return None
	# A plain row, not a Document: loading the DocType's meta costs a forked work horse more than the rest.
	job = frappe.db.sql(
		f"SELECT {', '.join(ROW_FIELDS)} FROM `tabAsync Job` WHERE name = %s", name, as_dict=True
	)[0]
	frappe.local.async_job_progress = Progress(job, side, frappe.cache)
	return job


def perform(job, kwargs: dict) -> tuple[str, float | None, dict]:
	"""Run the job's function; return (verb, delay, ledger fields). Commits or rolls back the job's own work."""
	try:
		result = frappe.get_attr(job.method)(**kwargs)
		frappe.db.commit()
		return "complete", None, {"result": summarize(result)}
	except Exception as e:
		frappe.db.rollback()
		verb, delay = decide(policy_of(job), e, job.attempts)
		if isinstance(e, JobCancelled | Snooze):
			return verb, delay, {"error": cstr(e) or type(e).__name__}
		return verb, delay, failure_fields(job, e)


def policy_of(job) -> RetryPolicy:
	return RetryPolicy.from_value(json.loads(job.retry_policy) if job.retry_policy else None)


def failure_fields(job, exc: BaseException) -> dict:
	error_log = frappe.log_error(
		title=f"Async Job {job.name}: {job.job_type} (attempt {job.attempts})",
		reference_doctype="Async Job",
		reference_name=job.name,
	)
	frappe.db.commit()
	return {
		"error": f"{type(exc).__name__}: {cstr(exc)}"[:1000],
		"traceback": traceback.format_exc(),
		"error_log": error_log.name,
	}


def record_outcome(job, verb: str, delay: float | None, fields: dict) -> None:
	"""Write the attempt's end; reschedule it when the policy says so; tell the owner when the job ended."""
	progress: Progress = frappe.local.async_job_progress
	progress.persist()
	status = TRANSITIONS[verb][1].value
	run_at = now_datetime() + timedelta(seconds=delay) if verb in RESCHEDULING else None
	if run_at:
		fields["run_at"] = run_at
	# The job's transaction is closed (committed or rolled back): the end goes through frappe.db.
	fields["attempt_log"] = attempt_log(job.name, status, fields.get("error"))
	if not lifecycle.transition(job.name, verb, **fields):
		frappe.db.rollback()
		return  # hard-stopped or reconciled meanwhile: that record stands
	if run_at:
		dispatch(job.name, run_at)
	frappe.db.commit()
	if TRANSITIONS[verb][1] in TERMINAL:
		progress.publish("async_jobs:finished", status=status, error=fields.get("error"))
		if job.batch:
			batches.child_ended(job.name, job.batch)
		notify.job_ended(job.name)
	else:
		progress.publish(status=status, error=fields.get("error"), run_at=str(run_at))
	transport.stage_due()


def attempt_log(name: str, status: str, error: str | None) -> str:
	"""The job's attempts so far plus this one (worker, start, end, outcome, error)."""
	row = frappe.db.sql(
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
			"ended_at": str(now_datetime()),
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
