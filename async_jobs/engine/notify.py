"""Tell the owner that a job ended: a Notification Log entry (the Desk's bell) and, per job type, an email.
By default only failures notify (a nightly job that succeeds is no news); jobs started from the Desk notify on
success too. The live toast is the `async_jobs:finished` realtime event the executor publishes."""

import frappe
from frappe import _

from async_jobs.engine.status import JobStatus

FAILURES = {JobStatus.FAILED.value, JobStatus.TIMED_OUT.value, JobStatus.DEAD.value, JobStatus.LOST.value}
NOTIFY_MODES = ("On Failure", "Always", "Never")


def should_notify(mode: str | None, status: str) -> bool:
	if mode == "Never" or status == JobStatus.CANCELLED.value:
		return False
	return status in FAILURES or (mode == "Always" and status == JobStatus.FINISHED.value)


def job_ended(name: str) -> None:
	rows = frappe.db.sql(
		"SELECT name, owner, status, job_type, error, notify, email_owner FROM `tabAsync Job` WHERE name = %s",
		name,
		as_dict=True,
	)
	job = rows[0] if rows else None
	if not job or job.owner == "Guest" or job.status == JobStatus.CANCELLED.value:
		return
	subject = _("Background job {0}: {1}").format(job.job_type, _(job.status))
	if should_notify(job.notify, job.status):
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
	email = job.email_owner and frappe.db.get_value("User", job.owner, "email")
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
