"""Reading the ledger from tests: always a fresh snapshot, since workers commit in other processes."""

import frappe

from tests.support.harness import wait_for


def row(name: str) -> frappe._dict:
	frappe.db.rollback()
	return frappe.db.get_value("Async Job", name, "*", as_dict=True)


def wait_for_status(name: str, *statuses: str, timeout: float = 60) -> frappe._dict:
	return wait_for(
		lambda: (r := row(name)) and r.status in statuses and r,
		timeout=timeout,
		message=f"job {name} to reach {' or '.join(statuses)} (now {row(name).status})",
	)


def todo_count(marker: str) -> int:
	frappe.db.rollback()
	return frappe.db.count("ToDo", {"description": ["like", f"{marker}%"]})


def todo_owners(marker: str) -> list[str]:
	"""The owners of the ToDos a job left (async_jobs.testing.jobs.record_marker) for `marker`."""
	frappe.db.rollback()
	return frappe.get_all("ToDo", filters={"description": ["like", f"{marker}%"]}, pluck="owner")
