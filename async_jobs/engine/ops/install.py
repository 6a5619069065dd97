"""Install and uninstall: the module map is fresh before our DocTypes sync; the manager role exists on every site
that has the app; uninstalling takes our Scheduled Job Types with it."""

import frappe

from async_jobs.engine.submit.permissions import MANAGER_ROLE


def ensure_roles() -> None:
	if not frappe.db.exists("Role", MANAGER_ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": MANAGER_ROLE, "desk_access": 1}).insert(
			ignore_permissions=True
		)


def refresh_module_map() -> None:
	"""Rebuild the module map install-app syncs DocTypes from (before_install).

	`sync_for` walks `frappe.local.app_modules`, which `frappe.init` read from the Redis cache. A bench command run on
	the site before async_jobs was in sites/apps.txt cached a map without it; install_app clears that key but keeps
	the stale map it already holds, and would sync none of our DocTypes while listing the app as installed."""
	frappe.cache.delete_value("app_modules")
	frappe.setup_module_map(include_all_apps=True)
	if "async_jobs" not in (frappe.local.app_modules or {}):
		frappe.throw(
			frappe._("async_jobs is not in sites/apps.txt of this bench: add it with bench get-app first."),
			title=frappe._("Cannot install async_jobs"),
		)


def remove_scheduled_jobs() -> None:
	"""Delete our Scheduled Job Types (before_uninstall). Frappe removes an app's DocTypes by module, but Scheduled
	Job Types have none: left behind, the scheduler would keep running methods of an app the site no longer has."""
	for name in frappe.get_all(
		"Scheduled Job Type", filters={"method": ["like", "async_jobs.%"]}, pluck="name"
	):
		frappe.delete_doc("Scheduled Job Type", name, ignore_permissions=True, force=True)
