"""Who may see, start and cancel which jobs. Owners see their own jobs; managers see all of them."""

from contextlib import contextmanager

import frappe
from frappe import _

from async_jobs.engine.submit.registry import JobType, job_types

MANAGER_ROLE = "Async Jobs Manager"
MANAGER_ROLES = frozenset({MANAGER_ROLE, "System Manager"})


def is_manager(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(MANAGER_ROLES.intersection(frappe.get_roles(user)))


@contextmanager
def acting_as(user: str):
	"""Run the block as `user` (a batch's callbacks, a schedule's runs: as their owner, whoever fires them)."""
	previous = frappe.session.user
	if previous != user:
		frappe.set_user(user)
	try:
		yield
	finally:
		if frappe.session.user != previous:
			frappe.set_user(previous)


def check_logged_in() -> None:
	if frappe.session.user == "Guest":
		frappe.throw(_("Log in to use background jobs."), frappe.PermissionError)


def check_manager() -> None:
	if not is_manager():
		frappe.throw(_("Only an Async Jobs Manager may do this."), frappe.PermissionError)


def can_access(owner: str, user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user != "Guest" and (owner == user or is_manager(user))


def get_accessible_job(name: str):
	"""The Async Job `name` if the session user may see it; a clear error otherwise."""
	return _get_accessible("Async Job", name)


def get_accessible_batch(name: str):
	"""The Async Job Batch `name` if the session user may see it; a clear error otherwise."""
	return _get_accessible("Async Job Batch", name)


def _get_accessible(doctype: str, name: str):
	check_logged_in()
	if not name:
		frappe.throw(_("Give the name of the {0}.").format(_(doctype)), frappe.ValidationError)
	if not isinstance(name, str) or not frappe.db.exists(doctype, name):
		frappe.throw(_("{0} {1} not found").format(_(doctype), name), frappe.DoesNotExistError)
	doc = frappe.get_doc(doctype, name)
	if not can_access(doc.owner):
		frappe.throw(_("You may not see another user's {0}.").format(_(doctype)), frappe.PermissionError)
	return doc


def check_can_start(job_type: JobType, reference_doctype: str | None, reference_name: str | None) -> None:
	"""Browser starts: the job type must allow it, the user must hold one of its roles and, when it is about a
	document, have `reference_ptype` permission on that document; a type about no document takes no reference."""
	check_logged_in()
	refusal = start_refusal(job_type, reference_doctype, reference_name)
	if refusal:
		frappe.throw(*refusal)


def start_refusal(
	job_type: JobType, reference_doctype: str | None, reference_name: str | None
) -> tuple[str, type[Exception]] | None:
	"""Why the session user may not start `job_type` about that document from the browser (message, error), or
	None. Adds no message to the response: retry_matching asks this of many jobs."""
	if not job_type.browser_startable:
		return _("Job type {0} cannot be started from the browser.").format(
			job_type.name
		), frappe.PermissionError
	if job_type.roles and not (set(job_type.roles) & set(frappe.get_roles()) or is_manager()):
		return _("You may not start {0}.").format(job_type.name), frappe.PermissionError
	if not job_type.reference_doctype:
		if reference_doctype or reference_name:
			return _("Job type {0} is not about a document: give no reference.").format(
				job_type.name
			), frappe.ValidationError
		return None
	if reference_doctype != job_type.reference_doctype or not reference_name:
		return _("Job type {0} needs a {1} document.").format(
			job_type.name, job_type.reference_doctype
		), frappe.ValidationError
	if not isinstance(reference_name, str) or not frappe.db.exists(reference_doctype, reference_name):
		return _("{0} {1} not found").format(reference_doctype, reference_name), frappe.DoesNotExistError
	if not frappe.has_permission(reference_doctype, job_type.reference_ptype, doc=reference_name):
		return _("You need {0} permission on {1} {2}.").format(
			job_type.reference_ptype, reference_doctype, reference_name
		), frappe.PermissionError
	return None


def bound_arguments(job_type: JobType, kwargs: dict, reference_name: str | None) -> dict:
	"""The arguments of a browser start. A job type about a document works on the document permission was checked
	on: it gets {"name": <that document>}, and arguments naming another document (or anything else) are refused."""
	if not job_type.reference_doctype:
		return kwargs
	if set(kwargs) - {"name"} or kwargs.get("name", reference_name) != reference_name:
		frappe.throw(
			_("Job type {0} works on the {1} it is started from and takes no other arguments.").format(
				job_type.name, _(job_type.reference_doctype)
			),
			frappe.PermissionError,
		)
	return {"name": reference_name}


def check_can_retry(job) -> None:
	"""A retry by hand (of a job or a batch's children): managers may retry whatever they see; others only what they
	may start from the browser now — a job type they hold a role for, with permission on its document."""
	refusal = retry_refusal(job)
	if refusal:
		frappe.throw(*refusal)


def retry_refusal(job, types: dict[str, JobType] | None = None) -> tuple[str, type[Exception]] | None:
	"""Why the session user may not retry `job` (a job or a batch: job_type and reference fields), or None."""
	if is_manager():
		return None
	job_type = (job_types() if types is None else types).get(job.job_type)
	if job_type is None:
		return _("Only an Async Jobs Manager may retry {0}: it is not a job type you can start.").format(
			job.job_type
		), frappe.PermissionError
	# The reference of a type about no document was set by server code, not by a start: it is no argument here.
	about = (job.reference_doctype, job.reference_name) if job_type.reference_doctype else (None, None)
	refusal = start_refusal(job_type, *about)
	return (refusal[0], frappe.PermissionError) if refusal else None


def startable_for_user(doctype: str | None = None) -> list[dict]:
	"""Browser-startable job types the session user holds a role for, optionally only those about `doctype`."""
	roles = set(frappe.get_roles())
	manager = is_manager()
	return [
		{
			"name": spec.name,
			"label": spec.label or spec.name,
			"reference_doctype": spec.reference_doctype,
			"button": spec.button,
		}
		for spec in job_types().values()
		if spec.browser_startable
		and (not doctype or spec.reference_doctype == doctype)
		and (manager or not spec.roles or roles & set(spec.roles))
	]


# Hooks: lists, reports and the REST API show owners their own jobs only.
def query_conditions(user: str | None = None) -> str:
	return _owner_condition("Async Job", user)


def batch_query_conditions(user: str | None = None) -> str:
	return _owner_condition("Async Job Batch", user)


def _owner_condition(doctype: str, user: str | None) -> str:
	user = user or frappe.session.user
	if is_manager(user):
		return ""
	return f"`tab{doctype}`.`owner` = {frappe.db.escape(user)}"


def has_permission(doc, ptype: str | None = None, user: str | None = None, **kwargs) -> bool:
	return can_access(doc.owner, user)
