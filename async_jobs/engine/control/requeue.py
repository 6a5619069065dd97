"""Retry by hand: a job that ended without success (failed, timed out, dead, cancelled, lost) is queued again for
a fresh round of attempts under its retry policy (its cancel flag cleared). One job, or every job matching a
filter."""

import frappe
from frappe import _

from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.observed import KIND_OBSERVED
from async_jobs.engine.ledger.status import RETRYABLE_BY_HAND
from async_jobs.engine.retry.policy import RetryPolicy
from async_jobs.engine.run.progress import cancel_key
from async_jobs.engine.submit.permissions import is_manager, retry_refusal
from async_jobs.engine.submit.registry import job_types
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

MAX_BULK = 1000


def requeue_by_hand(name: str) -> None:
	"""requeue_job(), with a clear error when the job cannot be retried."""
	if frappe.db.get_value("Async Job", name, "kind") == KIND_OBSERVED:
		frappe.throw(
			_(
				"Job {0} was not started through async_jobs (it is observed): async_jobs cannot run it again."
			).format(name),
			frappe.ValidationError,
		)
	if not frappe.db.get_value("Async Job", name, "encrypted_arguments"):
		frappe.throw(
			_("Job {0} cannot be retried: its arguments were not kept").format(name), frappe.ValidationError
		)
	if not requeue_job(name):
		status = frappe.db.get_value("Async Job", name, "status")
		frappe.throw(
			_("Job {0} is {1}: only failed, timed-out, dead, cancelled or lost jobs can be retried").format(
				name, _(status)
			),
			frappe.ValidationError,
		)


def requeue_job(name: str) -> bool:
	"""Queue job `name` again; False (nothing changed) if its state does not allow a retry by hand or its
	arguments were not kept."""
	row = frappe.db.get_value(
		"Async Job", name, ["attempts", "retry_policy", "encrypted_arguments"], as_dict=True, for_update=True
	)
	if not row or not row.encrypted_arguments:
		return False
	policy = RetryPolicy.from_json(row.retry_policy)
	by = _("Retried by {0}").format(frappe.session.user)
	if not lifecycle.transition(name, "requeue", max_attempts=row.attempts + policy.max_attempts, error=by):
		return False
	frappe.db.after_commit.add(lambda: _push(name))
	return True


def _push(name: str) -> None:
	# A cancel of a running attempt leaves its flag for a day: the fresh round must not stop at its first progress().
	frappe.cache.delete_value(cancel_key(frappe.local.site, name))
	try:
		dispatch(name)
		frappe.db.commit()  # the new RQ id on the row (after_commit runs outside the request's transaction)
	except CannotDispatch:
		frappe.db.rollback()


def requeue_matching(filters: dict) -> list[str]:
	"""Retry every job that matches `filters` and can be retried (at most MAX_BULK) — by a non-manager, only those
	they may start now (permissions.retry_refusal); return their names."""
	if not filters.get("status"):
		filters = {**filters, "status": ["in", sorted(s.value for s in RETRYABLE_BY_HAND)]}
	types = job_types()
	if (
		not is_manager()
	):  # only job types the browser can start, in the query: the others never fill the limit
		startable = sorted(name for name, spec in types.items() if spec.browser_startable)
		if filters.get("job_type"):
			startable = [name for name in startable if name == filters["job_type"]]
		if not startable:
			return []
		filters = {**filters, "job_type": ["in", startable]}
	rows = frappe.get_all(
		"Async Job",
		filters=filters,
		fields=["name", "job_type", "reference_doctype", "reference_name"],
		limit=MAX_BULK,
		order_by="creation asc",
	)
	return [r.name for r in rows if not retry_refusal(r, types) and requeue_job(r.name)]
