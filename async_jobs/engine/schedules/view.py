"""What a schedule's form shows: its next runs (in its time zone and in the system's) and its recent runs."""

import frappe
from frappe import _
from frappe.utils import now_datetime

from async_jobs.engine.schedules import cron
from async_jobs.engine.schedules.fire import TABLE

NEXT_RUNS = 5
RECENT_RUNS = 10
RUN_FIELDS = ["name", "status", "creation", "started_at", "ended_at", "run_seconds", "error", "schedule_tick"]


def overview(name: str) -> dict:
	"""The schedule's next runs and recent runs (the caller checked the permission)."""
	if not isinstance(name, str) or not frappe.db.exists("Async Job Schedule", name):
		frappe.throw(_("Async Job Schedule {0} not found").format(name), frappe.DoesNotExistError)
	row = frappe.db.sql(
		f"SELECT name, cron, time_zone, enabled, next_run_at FROM {TABLE} WHERE name = %s", name, as_dict=True
	)[0]
	return {
		"next_runs": next_runs(row) if row.enabled else [],
		"runs": frappe.get_all(
			"Async Job",
			filters={"schedule": name},
			fields=RUN_FIELDS,
			order_by="creation desc",
			limit_page_length=RECENT_RUNS,
		),
		"total_runs": frappe.db.count("Async Job", {"schedule": name}),
		"time_zone": row.time_zone,
	}


def choices() -> dict:
	from zoneinfo import available_timezones

	from async_jobs.engine.submit.registry import job_types

	return {
		"job_types": [
			{"value": name, "label": spec.label or name} for name, spec in sorted(job_types().items())
		],
		"time_zones": [
			*sorted(
				z
				for z in available_timezones()
				if "/" in z and not z.startswith(("posix/", "right/", "Etc/"))
			),
			"UTC",
		],
	}


def next_runs(row, count: int = NEXT_RUNS) -> list[dict]:
	"""The next `count` ticks from its next_run_at on: when, in the system's time and in the schedule's zone."""
	start = row.next_run_at or now_datetime()
	ticks = [start, *cron.next_after(row.cron, row.time_zone, start, count - 1)]
	tz = cron.zone(row.time_zone)
	return [
		{"at": str(tick), "local": cron.to_zone(tick, tz).strftime("%Y-%m-%d %H:%M %Z")} for tick in ticks
	]
