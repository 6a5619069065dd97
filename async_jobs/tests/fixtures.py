"""Importable job functions for tests: workers run them by dotted path (async_jobs.tests.fixtures.<name>)."""

import os

import frappe


def record_marker(marker: str) -> None:
	"""Leave a ToDo that says which process ran the job, and as whom."""
	frappe.get_doc(
		{"doctype": "ToDo", "description": f"{marker} pid={os.getpid()} user={frappe.session.user}"}
	).insert(ignore_permissions=True)


def record_marker_then_fail(marker: str) -> None:
	"""Write a ToDo, then raise: the worker must roll the write back."""
	record_marker(marker)
	raise RuntimeError(f"deliberate failure {marker}")
