"""Test helper: forget every watchdog alert and the notifications it sent, so that no test (nor the Desk's bell in
the browser tests) sees another test's alerts."""

import frappe


def forget_alerts() -> None:
	frappe.db.delete("Notification Log", {"document_type": "Async Jobs Alert"})
	frappe.db.delete("Async Jobs Alert")
	frappe.db.commit()
