"""Tell the owner that a job ended: a Notification Log entry (the Desk's bell) and, per job type, an email.
The live toast is the `async_jobs:finished` realtime event the executor publishes."""

import frappe
from frappe import _

from async_jobs.engine.registry import job_types
from async_jobs.engine.status import JobStatus

NOTIFY_ON = {
	JobStatus.FINISHED.value,
	JobStatus.FAILED.value,
	JobStatus.TIMED_OUT.value,
	JobStatus.DEAD.value,
	JobStatus.LOST.value,
}


def job_ended(name: str) -> None:
	job = frappe.db.get_value(
		"Async Job",
		name,
		["name", "owner", "status", "job_type", "error", "reference_doctype", "reference_name"],
		as_dict=True,
	)
	if not job or job.status not in NOTIFY_ON or job.owner == "Guest":
		return
	subject = _("Background job {0}: {1}").format(job.job_type, _(job.status))
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
	spec = job_types().get(job.job_type)
	email = frappe.db.get_value("User", job.owner, "email")
	if spec and spec.email_on_finish and email:
		frappe.sendmail(
			recipients=[email],
			subject=subject,
			message=_("Your background job {0} ended with status {1}.").format(job.job_type, _(job.status))
			+ (f"<pre>{frappe.utils.escape_html(job.error)}</pre>" if job.error else ""),
			reference_doctype="Async Job",
			reference_name=job.name,
		)
	frappe.db.commit()
