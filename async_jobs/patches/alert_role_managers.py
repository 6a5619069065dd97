"""The Alert Role's old default, Async Jobs Manager, is held by nobody on a new site: alerts reached nobody. Where
nobody holds it, clear it, so that alerts go to everyone the Job Monitor treats as a manager."""

import frappe
from frappe.utils.user import get_users_with_role

from async_jobs.engine.ledger.settings import DOCTYPE
from async_jobs.engine.submit.permissions import MANAGER_ROLE


def execute():
	if frappe.db.get_single_value(DOCTYPE, "alert_role") == MANAGER_ROLE and not get_users_with_role(
		MANAGER_ROLE
	):
		frappe.db.set_single_value(DOCTYPE, "alert_role", None)
