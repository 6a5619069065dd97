"""Test helper: forget every watchdog alert and the notifications it sent, so that no test (nor the Desk's bell in
the browser tests) sees another test's alerts."""

from contextlib import contextmanager
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from async_jobs.engine.health.scheduler import RUNNING_SINCE_KEY


def forget_alerts() -> None:
	frappe.db.delete("Notification Log", {"document_type": "Async Jobs Alert"})
	frappe.db.delete("Async Jobs Alert")
	frappe.db.commit()


@contextmanager
def scheduler(enabled: int):
	"""The site's scheduler switched on or off for a test, restored afterwards; no alerts from other tests."""
	before = frappe.db.get_single_value("System Settings", "enable_scheduler")
	frappe.db.set_single_value("System Settings", "enable_scheduler", enabled)
	# as if the watchdog had seen this scheduler running for an hour: its overdue rules apply at once
	frappe.cache.set_value(RUNNING_SINCE_KEY, (now_datetime() - timedelta(hours=1)).isoformat())
	forget_alerts()
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.set_single_value("System Settings", "enable_scheduler", before)
		frappe.cache.delete_value(RUNNING_SINCE_KEY)
		forget_alerts()
		frappe.db.commit()
