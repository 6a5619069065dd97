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
