"""The watchdog's check of Async Job Schedules: an enabled schedule whose tick passed without being fired (no
stager runs, and no scheduler fires them either, or firing fails) is an alert until it fires again."""

from datetime import datetime

import frappe
from frappe import _
from frappe.utils.scheduler import is_scheduler_inactive

from async_jobs.engine.health.alerts import Finding
from async_jobs.engine.schedules.fire import LATE_AFTER


def findings(now: datetime) -> list[Finding]:
	"""While the site's scheduler is off, only schedules that run regardless are judged: the scheduler's own alert
	is the one for the others (one cause, one alert)."""
	regardless = " AND run_when_scheduler_inactive = 1" if is_scheduler_inactive() else ""
	rows = frappe.db.sql(
		"SELECT name, next_run_at, cron, time_zone FROM `tabAsync Job Schedule`"
		f" WHERE enabled = 1 AND next_run_at < %s{regardless} ORDER BY next_run_at LIMIT 50",
		now - LATE_AFTER,
		as_dict=True,
	)
	return [
		Finding(
			key=f"schedule:{row.name}",
			title=_("Schedule {0} missed its run at {1}").format(row.name, row.next_run_at),
			message=_(
				"Its tick ({0}, {1}) passed {2} minutes ago and nothing fired it: schedules are fired by the stager"
				" process, and by the scheduler when none runs."
			).format(row.cron, row.time_zone, int((now - row.next_run_at).total_seconds() // 60)),
			fix=_(
				"Start the stager (bench async-jobs stager, part of bench start) or enable the scheduler; see"
				" the Error Log for a schedule that fails to fire."
			),
		)
		for row in rows
	]
