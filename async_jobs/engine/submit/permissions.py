"""Who may see, start and cancel which jobs. Owners see their own jobs; managers see all of them."""

import frappe
from frappe import _

from async_jobs.engine.submit.registry import JobType, job_types

MANAGER_ROLE = "Async Jobs Manager"
MANAGER_ROLES = frozenset({MANAGER_ROLE, "System Manager"})


def is_manager(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(MANAGER_ROLES.intersection(frappe.get_roles(user)))


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
	document, have `reference_ptype` permission on that document."""
	check_logged_in()
	if not job_type.browser_startable:
		frappe.throw(
			_("Job type {0} cannot be started from the browser.").format(job_type.name),
			frappe.PermissionError,
		)
	if job_type.roles and not (set(job_type.roles) & set(frappe.get_roles()) or is_manager()):
		frappe.throw(_("You may not start {0}.").format(job_type.name), frappe.PermissionError)
	if job_type.reference_doctype:
		if reference_doctype != job_type.reference_doctype or not reference_name:
			frappe.throw(
				_("Job type {0} needs a {1} document.").format(job_type.name, job_type.reference_doctype),
				frappe.ValidationError,
			)
		if not frappe.db.exists(reference_doctype, reference_name):
			frappe.throw(
				_("{0} {1} not found").format(reference_doctype, reference_name), frappe.DoesNotExistError
			)
		frappe.get_doc(reference_doctype, reference_name).check_permission(job_type.reference_ptype)


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
