"""The worker-side pipeline of a tracked job: record_started → perform → record_outcome → attempt_ended.

RQ runs `run` through Frappe's execute_job, so the site is initialised, the job's owner is the user, and
before_job / after_job hooks run as for any Frappe job. The job's own work is committed or rolled back as a whole;
ledger records (start, progress, end) are made outside that transaction and survive either way. An attempt that
raises is retried, failed, timed out or discarded by the job's retry policy (outcome.decide).
"""

import json
import os
import socket
import traceback
from datetime import timedelta

import frappe
from frappe.utils import cstr, now_datetime
from rq import get_current_job

from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.errors import JobCancelled, Snooze
from async_jobs.engine.ledger.redact import redact, redact_text
from async_jobs.engine.ledger.side_db import SideConnection
from async_jobs.engine.ledger.status import TRANSITIONS
from async_jobs.engine.retry.outcome import decide
from async_jobs.engine.retry.policy import RetryPolicy, attempts_in_round
from async_jobs.engine.run import gate
from async_jobs.engine.run.ended import attempt_ended
from async_jobs.engine.run.monitor import JobMonitor
from async_jobs.engine.run.progress import EVENT as PROGRESS_EVENT
from async_jobs.engine.run.progress import Progress
from async_jobs.engine.run.progress import publish as publish_progress
from async_jobs.engine.transport import workers as rq_workers
from async_jobs.engine.transport.delayed import stage_due
from async_jobs.engine.transport.dispatch import dispatch

RESULT_LIMIT = 4000
ROW_FIELDS = (
	"name",
	"owner",
	"job_type",
	"method",
	"attempts",
	"max_attempts",
	"retry_policy",
	"reference_doctype",
	"reference_name",
	"batch",
	"notify",
	"email_owner",
	"concurrency_limit",  # the after-end work frees the job's limits from the row as written (ended_row)
	"concurrency_key",
	"rate_limit",
	"rate_key",
	"has_dependents",  # its end looks for children waiting for it (engine/chains/release.py)
)
RESCHEDULING = ("retry_later", "snooze")


def run(async_job: str, job_kwargs: dict | None = None, flow: bool = False):
	side = SideConnection()
	monitor = None
	try:
		granted = gate.admit(async_job) if flow else None  # limits and expiry (run/gate.py)
		if flow and granted is None:
			return  # expired, held for a slot, or moved by its rate limit: not to run now
		job = record_started(async_job, side)
		if job is None:
			if granted:
				granted.give_back()
			return  # cancelled while it waited, or delivered twice: not ours to run
		run_as_owner(job)
		slot = (granted.slot, granted.lease) if granted and granted.slot else None
		monitor = JobMonitor(job.name, job.attempts, slot)
		monitor.start()
		verb, delay, fields = perform(job, job_kwargs or {})
		monitor.stop()
		record_outcome(job, verb, delay, fields)
	finally:
		if monitor:
			monitor.stop()
		frappe.local.async_job_progress = None
		side.close()
		stage_due()  # a busy bench stages delayed jobs here, between its jobs (one look per job)


def record_started(name: str, side: SideConnection):
	"""Record the start on frappe.db and commit: the job's own transaction has not begun yet."""
	rq_job = get_current_job()
	worker = getattr(rq_job, "worker_name", None)
	started = lifecycle.transition(name, "start", worker=worker)
	frappe.db.commit()
	if not started:
		return None
	if worker:  # the work horse (or the fast worker's child) is the worker's child: its parent is the worker
		kind = os.environ.get("ASYNC_JOBS_WORKER_KIND") or "bench"
		rq_workers.remember(rq_job.connection, worker, socket.gethostname(), os.getppid(), kind)
	# A plain row, not a Document: loading the DocType's meta costs a forked work horse more than the rest.
	job = frappe.db.sql(
		f"SELECT {', '.join(ROW_FIELDS)} FROM `tabAsync Job` WHERE name = %s", name, as_dict=True
	)[0]
	frappe.local.async_job_progress = Progress(job, side, frappe.cache)
	publish_progress(PROGRESS_EVENT, job, 0, None, 0.0, None, status="Started")  # the Desk shows it at once
	return job


def run_as_owner(job) -> None:
	"""Every attempt runs as the job's owner, whoever pushed it (an RQ job built before the owner went into it
	names whoever pushed it: Administrator for the lifeline, a manager for a retry)."""
	if frappe.session.user != job.owner:
		frappe.set_user(job.owner)


def perform(job, kwargs: dict) -> tuple[str, float | None, dict]:
	"""Run the job's function; return (verb, delay, ledger fields). Commits or rolls back the job's own work."""
	try:
		result = frappe.get_attr(job.method)(**kwargs)
		if (
			frappe.db.transaction_writes
		):  # else nothing to commit: a write Frappe does not count commits with the end
			frappe.db.commit()
		return "complete", None, {"result": summarize(result)}
	except Exception as e:
		frappe.db.rollback()
		policy = RetryPolicy.from_json(job.retry_policy)
		verb, delay = decide(policy, e, attempts_in_round(policy, job.attempts, job.max_attempts))
		if isinstance(e, JobCancelled | Snooze):
			return verb, delay, {"error": cstr(e) or type(e).__name__}
		return verb, delay, failure_fields(job, e)


def failure_fields(job, exc: BaseException) -> dict:
	"""The error, the traceback and an Error Log, redacted. The Error Log gets an explicit message: without one
	Frappe logs the traceback with every frame's locals, the job's arguments among them."""
	trace = redact_text(traceback.format_exc())
	error_log = frappe.log_error(
		title=f"Async Job {job.name}: {job.job_type} (attempt {job.attempts})",
		message=trace,
		reference_doctype="Async Job",
		reference_name=job.name,
	)
	frappe.db.commit()
	return {
		"error": redact_text(f"{type(exc).__name__}: {cstr(exc)}")[:1000],
		"traceback": trace,
		"error_log": error_log.name,
	}


def record_outcome(job, verb: str, delay: float | None, fields: dict) -> None:
	"""Write the attempt's end — status, result or error, progress, its attempt-log entry, in one statement —;
	reschedule it when the policy says so; then the after-end work (ended.py) with the row as written."""
	progress: Progress = frappe.local.async_job_progress
	status = TRANSITIONS[verb][1].value
	run_at = now_datetime() + timedelta(seconds=delay) if verb in RESCHEDULING else None
	if run_at:
		fields["run_at"] = run_at
	if progress.touched:
		fields.update(progress.fields())
		if status == "Finished":
			del fields["progress_percent"]  # the transition makes it 100
	# The job's transaction is closed (committed or rolled back): the end goes through frappe.db.
	ended = lifecycle.transition(
		job.name,
		verb,
		attempt=job.attempts,
		in_batch=bool(job.batch),
		log_error=fields.get("error"),
		**fields,
	)
	if not ended:
		frappe.db.rollback()
		return  # hard-stopped, reconciled or on to a newer attempt meanwhile: that record stands
	if run_at:
		dispatch(job.name, run_at)
	frappe.db.commit()
	attempt_ended(job.name, attempt=job.attempts, row=ended_row(job, status, fields, progress))


def ended_row(job, status: str, fields: dict, progress: Progress) -> frappe._dict:
	"""The row as the end just wrote it (attempt_ended's FIELDS): no read after the write."""
	return frappe._dict(
		job,
		status=status,
		error=fields.get("error"),
		run_at=fields.get("run_at"),
		progress_done=progress.done,
		progress_total=progress.total,
		progress_percent=100 if status == "Finished" else progress.percent(),
		progress_message=progress.message,
	)


def summarize(result) -> str | None:
	if result is None:
		return None
	try:
		text = json.dumps(redact(result), default=str)
	except (TypeError, ValueError):
		text = json.dumps(redact_text(repr(result)))
	return text if len(text) <= RESULT_LIMIT else json.dumps({"truncated": text[:RESULT_LIMIT]})
