"""Retry or cancel many jobs chosen by name (the Async Job list's bulk actions): each job is checked and acted on
by itself, and the answer names every job that was not, with the reason — never just a count."""

import json

import frappe
from frappe import _

from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.control.requeue import requeue_by_hand
from async_jobs.engine.ledger.status import RETRYABLE_BY_HAND, WAITING, JobStatus
from async_jobs.engine.submit import permissions

MAX_NAMES = 500
RETRYABLE = {s.value for s in RETRYABLE_BY_HAND}
CANCELLABLE = {s.value for s in WAITING} | {JobStatus.STARTED.value}


def parse_names(names) -> list[str]:
	if isinstance(names, str):
		try:
			names = json.loads(names)
		except ValueError:
			names = [names]
	if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
		frappe.throw(_("names must be a list of job names"), frappe.ValidationError)
	if not names or len(names) > MAX_NAMES:
		frappe.throw(_("Give 1 to {0} job names.").format(MAX_NAMES), frappe.ValidationError)
	return list(dict.fromkeys(names))


def apply(action: str, names) -> dict:
	"""{"done": [names], "refused": [{"name", "job_type", "status", "reason"}]} for "retry" or "cancel"."""
	permissions.check_logged_in()
	if action not in ("retry", "cancel"):
		frappe.throw(_("Unknown action: {0}").format(action), frappe.ValidationError)
	done, refused = [], []
	for name in parse_names(names):
		frappe.db.savepoint("async_jobs_bulk")
		messages = len(frappe.local.message_log)
		try:
			_one(action, name)
			done.append(name)
		except (frappe.ValidationError, frappe.PermissionError) as e:
			frappe.db.rollback(save_point="async_jobs_bulk")
			del frappe.local.message_log[messages:]  # the reason goes into the answer, not into a dialog each
			row = frappe.db.get_value("Async Job", name, ["job_type", "status"], as_dict=True) or {}
			refused.append(
				{
					"name": name,
					"job_type": row.get("job_type"),
					"status": row.get("status"),
					"reason": str(e) or _("Not allowed"),
				}
			)
	return {"done": done, "refused": refused}


def _one(action: str, name: str) -> None:
	job = permissions.get_accessible_job(name)
	if action == "retry":
		if job.status not in RETRYABLE:
			frappe.throw(
				_("It is {0}: only failed, timed-out, dead, cancelled or lost jobs can be retried.").format(
					_(job.status)
				),
				frappe.ValidationError,
			)
		permissions.check_can_retry(job)
		requeue_by_hand(job.name)
	else:
		if job.status not in CANCELLABLE:
			frappe.throw(
				_("It is {0} already: only waiting or running jobs can be cancelled.").format(_(job.status)),
				frappe.ValidationError,
			)
		cancel_job(job.name)
