"""Test helper: forget every watchdog alert and the notifications it sent, so that no test (nor the Desk's bell in
the browser tests) sees another test's alerts."""

from contextlib import contextmanager

import frappe


def forget_alerts() -> None:
	frappe.db.delete("Notification Log", {"document_type": "Async Jobs Alert"})
	frappe.db.delete("Async Jobs Alert")
	frappe.db.commit()


@contextmanager
def scheduler(enabled: int):
	"""The site's scheduler switched on or off for a test, restored afterwards; no alerts from other tests."""
	before = frappe.db.get_single_value("System Settings", "enable_scheduler")
	frappe.db.set_single_value("System Settings", "enable_scheduler", enabled)
	forget_alerts()
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.set_single_value("System Settings", "enable_scheduler", before)
		forget_alerts()
		frappe.db.commit()
