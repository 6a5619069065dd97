"""Install-time setup: the manager role exists on every site that has the app."""

import frappe

from async_jobs.engine.permissions import MANAGER_ROLE


def ensure_roles() -> None:
	if not frappe.db.exists("Role", MANAGER_ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": MANAGER_ROLE, "desk_access": 1}).insert(
			ignore_permissions=True
		)
