"""Cancellation: a waiting job leaves RQ and is marked Cancelled; a running job is asked to stop. It stops at
its next progress() call, or is hard-stopped by its monitor after a grace period (see run/monitor.py)."""

import frappe
from frappe import _

from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.observed import KIND_OBSERVED
from async_jobs.engine.ledger.status import WAITING, JobStatus
from async_jobs.engine.run.ended import attempt_ended
from async_jobs.engine.run.progress import cancel_key
from async_jobs.engine.transport import rq_jobs

CANCEL_FLAG_TTL = 24 * 3600


def cancel_job(name: str, settle_batch: bool = True) -> str:
	"""Cancel job `name`; return its status afterwards. Ended jobs are left as they are. A batch child's batch is
	settled after the commit, unless the caller (cancelling the whole batch) does it once at the end."""
	row = frappe.db.get_value(
		"Async Job", name, ["status", "rq_job_id", "kind"], as_dict=True, for_update=True
	)
	if not row:
		frappe.throw(_("Async Job {0} not found").format(name), frappe.DoesNotExistError)
	if row.kind == KIND_OBSERVED:
		frappe.throw(
			_(
				"Job {0} was not started through async_jobs (it is observed): cancel it from the RQ Job list."
			).format(name),
			frappe.ValidationError,
		)
	status = JobStatus(row.status)
	by = _("Cancelled by {0}").format(frappe.session.user)
	if status in WAITING:
		lifecycle.transition(name, "cancel", error=by)
		frappe.db.after_commit.add(lambda: rq_jobs.remove(row.rq_job_id))
		frappe.db.after_commit.add(lambda: attempt_ended(name, settle_batch))
		return JobStatus.CANCELLED.value
	if status == JobStatus.STARTED:
		frappe.db.set_value("Async Job", name, "cancel_requested", 1, update_modified=False)
		frappe.cache.set_value(
			cancel_key(frappe.local.site, name), frappe.session.user, expires_in_sec=CANCEL_FLAG_TTL
		)
	return status.value
