"""Tell the owner that a job ended: a Notification Log entry (the Desk's bell) and, per job type, an email.
By default only failures notify (a nightly job that succeeds is no news); jobs started from the Desk notify on
success too. The live toast is the `async_jobs:finished` realtime event (ended.py)."""

import frappe
from frappe import _

from async_jobs.engine.ledger.status import FAILED_END_VALUES, JobStatus

FAILURES = set(FAILED_END_VALUES)
FIELDS = ("name", "owner", "status", "job_type", "error", "notify", "email_owner")


def should_notify(mode: str | None, status: str) -> bool:
	if mode == "Never" or status == JobStatus.CANCELLED.value:
		return False
	return status in FAILURES or (mode == "Always" and status == JobStatus.FINISHED.value)


def job_ended(job) -> None:
	"""`job`: the ended job's row, with FIELDS. Writes (and commits) only when someone is told."""
	if job.owner == "Guest" or job.status == JobStatus.CANCELLED.value:
		return
	notify_log = should_notify(job.notify, job.status)
	email = job.email_owner and frappe.db.get_value("User", job.owner, "email")
	if not (notify_log or email):
		return
	subject = _("Background job {0}: {1}").format(job.job_type, _(job.status))
	if notify_log:
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": job.owner,
				"type": "Alert",
				"subject": subject,
				"email_content": job.error or "",
				"document_type": "Async Job",
				"document_name": job.name,
				"from_user": job.owner,
			}
		).insert(ignore_permissions=True)
	if email:
		frappe.sendmail(
			recipients=[email],
			subject=subject,
			message=_("Your background job {0} ended with status {1}.").format(job.job_type, _(job.status))
			+ (f"<pre>{frappe.utils.escape_html(job.error)}</pre>" if job.error else ""),
			reference_doctype="Async Job",
			reference_name=job.name,
		)
	frappe.db.commit()
