"""Boot info for the Desk: which job-type buttons to put on which forms, and whether the user is a manager."""

import frappe

from async_jobs.engine.submit.permissions import is_manager, startable_for_user
from async_jobs.engine.submit.registry import job_types


def extend_bootinfo(bootinfo) -> None:
	if frappe.session.user == "Guest":
		return
	buttons: dict[str, list[dict]] = {}
	for job_type in startable_for_user():
		if job_type["button"] and job_type["reference_doctype"]:
			buttons.setdefault(job_type["reference_doctype"], []).append(job_type)
	# Job types' labels, for toasts and the Job Monitor ("Background job Rebuild Stock Ledger finished").
	titles = {spec.name: spec.label for spec in job_types().values() if spec.label}
	bootinfo.async_jobs = {"is_manager": is_manager(), "buttons": buttons, "titles": titles}
