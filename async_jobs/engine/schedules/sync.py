"""Schedules declared by apps in hooks.py, written into the site's Async Job Schedules at install and migrate:

	async_jobs_schedules = [
		{"name": "Nightly stock check", "job_type": "stock-check", "cron": "0 2 * * *", "time_zone": "Asia/Kolkata",
		 "queue": "long", "timeout": 3600, "retry": 3, "arguments": {"company": "ACME"},
		 "overlap": "Skip", "missed": "Run Once", "run_when_scheduler_inactive": False, "enabled": True},
	]

`job_type` or `method`; everything but name and cron is optional. A declared schedule's definition follows the
hooks on every migrate; whether it is enabled is the site manager's to change (the hooks' `enabled` applies when
the schedule is first written). Schedules an app no longer declares are deleted; a schedule made in the Desk with
the same name is left alone (and the clash logged). A bad declaration is logged and skipped."""

import json

import frappe

DOCTYPE = "Async Job Schedule"
# hook key → field
FIELDS = {
	"job_type": "job_type",
	"method": "method",
	"cron": "cron",
	"time_zone": "time_zone",
	"queue": "queue",
	"timeout": "timeout",
	"retry": "retry_attempts",
	"overlap": "overlap_policy",
	"missed": "missed_run_policy",
	"run_when_scheduler_inactive": "run_when_scheduler_inactive",
}
DEFAULTS = {"overlap_policy": "Skip", "missed_run_policy": "Run Once", "run_when_scheduler_inactive": 0}


def logger():
	return frappe.logger("async_jobs.schedules", allow_site=False)


def declared() -> list[tuple[str, dict]]:
	"""(app, declaration) of every installed app's async_jobs_schedules."""
	found = []
	for app in frappe.get_installed_apps():
		for spec in frappe.get_hooks("async_jobs_schedules", app_name=app) or []:
			found.append((app, spec))
	return found


def definition(spec: dict) -> dict:
	values = {field: None for field in FIELDS.values()} | DEFAULTS  # a key no longer declared is reset
	for key, field in FIELDS.items():
		if key in spec:
			values[field] = spec[key]
	values["arguments"] = json.dumps(spec.get("arguments") or {}, sort_keys=True)
	return values


def sync() -> dict[str, list[str]]:
	"""Write the declared schedules; returns the names written, deleted and skipped. Commits."""
	result = {"written": [], "deleted": [], "skipped": []}
	names = set()
	for app, spec in declared():
		name = spec.get("name") if isinstance(spec, dict) else None
		if not name or not isinstance(name, str):
			logger().error(f"async_jobs_schedules of {app}: a schedule without a name: {spec!r}")
			continue
		names.add(name)
		try:
			_write(app, name, spec)
			frappe.db.commit()
			result["written"].append(name)
		except Exception:
			frappe.db.rollback()
			frappe.clear_last_message()
			logger().exception(f"async_jobs_schedules of {app}: schedule {name!r} was not written")
			result["skipped"].append(name)
	for name in frappe.get_all(DOCTYPE, filters={"source": "Hooks"}, pluck="name"):
		if name not in names:
			frappe.delete_doc(DOCTYPE, name, ignore_permissions=True, force=True)
			result["deleted"].append(name)
	frappe.db.commit()
	return result


def _write(app: str, name: str, spec: dict) -> None:
	values = definition(spec)
	if frappe.db.exists(DOCTYPE, name):
		doc = frappe.get_doc(DOCTYPE, name)
		if doc.source != "Hooks":
			raise ValueError(f"a schedule {name!r} made in the Desk exists: it is left as it is")
		changed = {field: value for field, value in values.items() if doc.get(field) != value}
		if not changed and doc.app == app:
			return
		doc.update({**values, "app": app})
	else:
		doc = frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"schedule_name": name,
				**values,
				"enabled": 1 if spec.get("enabled", True) else 0,
				"source": "Hooks",
				"app": app,
			}
		)
	doc.flags.ignore_permissions = True
	doc.save()
