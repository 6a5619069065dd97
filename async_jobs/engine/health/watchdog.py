"""Watchdog: is the site's scheduler running its jobs? The scheduler's own state (health/scheduler) and Scheduled
Job Types that are overdue (more than twice their interval since their last run) or failed their last runs. The
rules are pure functions of gathered facts and `now`; check() gathers the facts, adds the queue health findings
and syncs the alerts.

Also run by `bench async-jobs health` (which works while the scheduler is off, when this task cannot run).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from croniter import croniter
from frappe import _
from frappe.utils import cint, format_datetime, get_datetime, now_datetime
from frappe.utils.background_jobs import get_redis_conn, is_job_enqueued
from frappe.utils.scheduler import is_dormant, is_scheduler_disabled

from async_jobs.engine.health import alerts, queues, schedules
from async_jobs.engine.health.alerts import Finding
from async_jobs.engine.health.scheduler import (
	gather_scheduler,
	human,
	overdue_grace,
	running_since,
	scheduler_findings,
)
from async_jobs.engine.ledger import settings

LOCK_SECONDS = 120
FAILED_LOOKBACK = timedelta(days=8)  # scheduled jobs with a failed run this recent are examined
CRON_MAP = {  # as Frappe's ScheduledJobType.get_next_execution
	"Yearly": "0 0 1 1 *",
	"Annual": "0 0 1 1 *",
	"Monthly": "0 0 1 * *",
	"Monthly Long": "0 0 1 * *",
	"Weekly": "0 0 * * 0",
	"Weekly Long": "0 0 * * 0",
	"Daily": "0 0 * * *",
	"Daily Long": "0 0 * * *",
	"Daily Maintenance": "0 0 * * *",
	"Hourly": "0 * * * *",
	"Hourly Long": "0 * * * *",
	"Hourly Maintenance": "0 * * * *",
}


@dataclass(frozen=True)
class JobTypeFacts:
	name: str
	method: str
	frequency: str
	cron_format: str | None
	last_execution: datetime | None
	creation: datetime
	recent_statuses: tuple[str, ...] = ()  # newest first


def interval(job: JobTypeFacts, base: datetime, scheduler_interval: int = 240) -> timedelta:
	"""The time between two runs of the job after `base`, from its cron expression (Frappe's, for frequencies)."""
	cron = job.cron_format or CRON_MAP.get(job.frequency) or f"*/{max(scheduler_interval // 60, 1)} * * * *"
	first = croniter(cron, base).get_next(datetime)
	return croniter(cron, first).get_next(datetime) - first


def job_type_findings(
	jobs: list[JobTypeFacts],
	now: datetime,
	failing_runs: int = 3,
	overdue: bool = True,
	scheduler_interval: int = 240,
) -> list[Finding]:
	"""Overdue (unless `overdue` is False) and repeatedly failing job types. `scheduler_interval` (seconds) sets how
	often "All" jobs run, as the site config's scheduler_interval does."""
	found = []
	for job in jobs:
		last = job.last_execution or job.creation
		every = interval(job, last, scheduler_interval)
		if overdue and now - last > 2 * every:
			since = (
				_("It runs every {0} but last ran {1} ago, at {2}.").format(
					human(every), human(now - last), format_datetime(job.last_execution)
				)
				if job.last_execution
				else _("It runs every {0} but has never run since it was set up {1} ago.").format(
					human(every), human(now - last)
				)
			)
			found.append(
				Finding(
					f"overdue:{job.name}",
					_("Scheduled job {0} is overdue").format(job.name),
					since,
					_(
						"Check that the scheduler and the {0} workers run; run it now from its Scheduled Job Type (Execute) and read its Scheduled Job Log."
					).format("long" if "Long" in job.frequency else "default"),
					scheduled_job_type=job.name,
				)
			)
		statuses = job.recent_statuses[:failing_runs]
		if failing_runs and len(statuses) == failing_runs and all(s == "Failed" for s in statuses):
			found.append(
				Finding(
					f"failing:{job.name}",
					_("Scheduled job {0} failed its last {1} runs").format(job.name, failing_runs),
					_("The method {0} raises an error on every run.").format(job.method),
					_(
						"Read the traceback in its Scheduled Job Log (Details) and fix the method; the alert clears after a successful run."
					),
					scheduled_job_type=job.name,
				)
			)
	return found


def gather_job_types(now: datetime, failing_runs: int) -> list[JobTypeFacts]:
	rows = frappe.get_all(
		"Scheduled Job Type",
		filters={"stopped": 0},
		fields=["name", "method", "frequency", "cron_format", "last_execution", "creation"],
	)
	failed_recently = set(
		frappe.get_all(
			"Scheduled Job Log",
			filters={"status": "Failed", "modified": [">", now - FAILED_LOOKBACK]},
			pluck="scheduled_job_type",
			distinct=True,
		)
	)
	jobs = []
	for row in rows:
		statuses = ()
		if row.name in failed_recently and failing_runs:
			statuses = tuple(
				frappe.get_all(
					"Scheduled Job Log",
					filters={"scheduled_job_type": row.name},
					pluck="status",
					order_by="modified desc",
					limit=failing_runs,
				)
			)
		jobs.append(
			JobTypeFacts(
				row.name,
				row.method,
				row.frequency,
				row.cron_format or frappe_cron(row),
				get_datetime(row.last_execution) if row.last_execution else None,
				get_datetime(row.creation),
				statuses,
			)
		)
	return jobs


def frappe_cron(row) -> str | None:
	"""The cron expression Frappe itself runs a frequency by (ScheduledJobType.get_next_execution fills it in), so
	frequencies a newer Frappe adds (Daily / Hourly Maintenance) are judged as Frappe runs them."""
	doc = frappe.get_doc({"doctype": "Scheduled Job Type", **row})
	try:
		doc.get_next_execution()
	except Exception:
		return None
	return doc.cron_format


def waiting_to_run(method: str) -> bool:
	"""The scheduler enqueued this job type and it waits in its queue or runs (Frappe's own check, by its RQ job id):
	not overdue — late at most, which the queue checks report. So the first ticks after the scheduler is switched
	on, which enqueue every job it kept from running, open no alert."""
	return is_job_enqueued(f"scheduled_job::{method}")


def findings(now: datetime | None = None, config=None) -> list[Finding]:
	"""Everything the watchdog finds wrong right now. Overdue job types are judged only while the scheduler runs
	jobs and is heard from: a disabled, dormant or silent scheduler is the one alert then, not every job type it
	stopped; nor in the first moments after it runs again (overdue_grace); and one the scheduler has enqueued is
	not overdue (waiting_to_run)."""
	now = now or now_datetime()
	config = config or settings.load()
	scheduler = gather_scheduler(now)
	found = scheduler_findings(
		scheduler, now, timedelta(seconds=settings.seconds("scheduler_silent_seconds"))
	)
	jobs = gather_job_types(now, config.failing_runs)
	every = cint(frappe.get_conf().scheduler_interval) or 240
	methods = {job.name: job.method for job in jobs}
	since = running_since(scheduler.runs_jobs and not found, now)
	judge_overdue = since is not None and now - since >= overdue_grace()
	found += [
		finding
		for finding in job_type_findings(jobs, now, config.failing_runs, judge_overdue, every)
		if not (finding.key.startswith("overdue:") and waiting_to_run(methods[finding.scheduled_job_type]))
	]
	found += queues.findings(config, now)
	found += schedules.findings(now)
	return found


def check(now: datetime | None = None, notify: bool = True) -> dict[str, list[str]]:
	"""Run every check and open or clear alerts; returns the keys opened, kept and cleared. One pass per site at
	a time: the scheduler task, the stager and `bench async-jobs health` may overlap."""
	conn = get_redis_conn()
	lock = f"async_jobs:watchdog:{frappe.local.site}"
	if not conn.set(lock, 1, nx=True, ex=LOCK_SECONDS):
		return {"opened": [], "kept": [], "cleared": [], "skipped": ["another watchdog pass is running"]}
	try:
		return alerts.sync(findings(now), now=now, notify=notify)
	finally:
		conn.delete(lock)
