"""Boot info for the Desk: which job-type buttons to put on which forms, and whether the user is a manager."""

import frappe

from async_jobs.engine.submit.permissions import is_manager, startable_for_user


def extend_bootinfo(bootinfo) -> None:
	if frappe.session.user == "Guest":
		return
	buttons: dict[str, list[dict]] = {}
	for job_type in startable_for_user():
		if job_type["button"] and job_type["reference_doctype"]:
			buttons.setdefault(job_type["reference_doctype"], []).append(job_type)
	bootinfo.async_jobs = {"is_manager": is_manager(), "buttons": buttons}
