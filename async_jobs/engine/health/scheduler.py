"""The scheduler itself: disabled, paused, in maintenance, dormant, or silent (nothing logged; with Frappe's own
check, a `bench schedule` missing on this host). scheduler_findings is a pure function of the gathered facts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import cint, convert_utc_to_system_timezone, get_datetime
from frappe.utils.scheduler import is_dormant, is_scheduler_disabled
from rq import get_current_job

try:  # newer Frappe 15 (its System Health Report uses it)
	from frappe.utils.scheduler import is_schduler_process_running as _scheduler_process_running
except ImportError:
	_scheduler_process_running = None

from async_jobs.engine.health.alerts import Finding

SILENT_AFTER = timedelta(minutes=30)  # the watchdog's own 5-minute cron logs a run at least this often
# When Frappe says no scheduler process runs on this host, a shorter silence settles it: async_jobs' every-minute
# cron jobs log a run each minute wherever the scheduler runs (another host's scheduler keeps the log fresh).
# The site config's async_jobs_scheduler_silent_seconds changes it.
SILENT_WITHOUT_PROCESS = timedelta(minutes=5)


@dataclass(frozen=True)
class SchedulerFacts:
	site: str
	disabled: bool  # System Settings' enable_scheduler is off, or disable_scheduler is in the config
	disabled_in_config: bool
	paused: bool
	maintenance: bool
	dormant: bool
	last_log: datetime | None  # the newest Scheduled Job Log
	# Frappe's own check of this host's `bench schedule`, where Frappe has it
	process_running: bool | None = None
	# When the scheduler enqueued the run this pass is part of (the watchdog's own scheduled job): news of it as
	# fresh as a log. The first tick after days of a disabled scheduler runs this pass before any job has logged.
	enqueued_this_run: datetime | None = None

	@property
	def last_heard(self) -> datetime | None:
		return max((t for t in (self.last_log, self.enqueued_this_run) if t), default=None)

	@property
	def runs_jobs(self) -> bool:
		return not (self.disabled or self.paused or self.maintenance or self.dormant)


def scheduler_findings(
	facts: SchedulerFacts, now: datetime, silent_without_process: timedelta = SILENT_WITHOUT_PROCESS
) -> list[Finding]:
	site = facts.site
	found = []
	if facts.disabled:
		fix = (
			_(
				"Remove disable_scheduler from the site config: `bench --site {0} set-config disable_scheduler 0`"
			)
			if facts.disabled_in_config
			else _("Run `bench --site {0} enable-scheduler`")
		)
		found.append(
			Finding(
				"scheduler-disabled",
				_("The scheduler of {0} is disabled").format(site),
				_("No scheduled job runs: no pruning, digests, reports or other apps' scheduled jobs."),
				fix.format(site),
			)
		)
	if facts.paused:
		found.append(
			Finding(
				"scheduler-paused",
				_("The scheduler of {0} is paused").format(site),
				_("pause_scheduler is set in the site config: scheduled jobs are not enqueued."),
				_("Run `bench --site {0} scheduler resume`").format(site),
			)
		)
	if facts.maintenance:
		found.append(
			Finding(
				"maintenance-mode",
				_("{0} is in maintenance mode").format(site),
				_("The scheduler skips sites in maintenance mode."),
				_("Run `bench --site {0} set-maintenance-mode off` when the maintenance is over").format(
					site
				),
			)
		)
	if facts.dormant and not facts.disabled:
		found.append(
			Finding(
				"scheduler-dormant",
				_("The scheduler of {0} is dormant").format(site),
				_(
					"Nobody used the site for longer than System Settings' Dormant Days: Frappe runs its scheduled jobs only once a day."
				),
				_("Log in to the site (any activity wakes it) or raise Dormant Days in System Settings."),
			)
		)
	silent_after = silent_without_process if facts.process_running is False else SILENT_AFTER
	heard = facts.last_heard
	if facts.runs_jobs and heard and now - heard > silent_after:
		found.append(
			Finding(
				"scheduler-silent",
				_("No scheduled job of {0} has run for {1}").format(site, human(now - heard)),
				_(
					"The scheduler process (bench schedule) is not running on this host and nothing is logged in Scheduled Job Log."
				)
				if facts.process_running is False
				else _(
					"The scheduler is enabled but nothing is logged in Scheduled Job Log: the scheduler process or the workers of the default and long queues are not running."
				),
				_(
					"Start `bench schedule` and the workers (production: `sudo supervisorctl status` and start the frappe-bench schedule and worker programs); see logs/scheduler.log."
				),
			)
		)
	return found


RUNNING_SINCE_KEY = "async_jobs:scheduler_running_since"


def running_since(runs: bool, now: datetime) -> datetime | None:
	"""Since when the watchdog has seen the scheduler running jobs (None while it does not). Kept in the site's
	cache: the first pass that sees it running again starts the count."""
	if not runs:
		frappe.cache.delete_value(RUNNING_SINCE_KEY)
		return None
	since = frappe.cache.get_value(RUNNING_SINCE_KEY)
	if not since:
		frappe.cache.set_value(RUNNING_SINCE_KEY, now.isoformat())
		return now
	return get_datetime(since)


def overdue_grace() -> timedelta:
	"""How long after the scheduler is seen running again job types are not judged overdue: its first ticks enqueue
	every job it kept from running (a tick's pass over ERPNext's 90-odd job types takes seconds), and a watchdog
	pass among them would call the ones not enqueued yet overdue. Two ticks and half a minute."""
	tick = cint(frappe.get_conf().scheduler_tick_interval) or 60
	return timedelta(seconds=2 * tick + 30)


def human(delta: timedelta) -> str:
	seconds = int(delta.total_seconds())
	if seconds >= 2 * 86400:
		return _("{0} days").format(seconds // 86400)
	if seconds >= 2 * 3600:
		return _("{0} hours").format(seconds // 3600)
	if seconds < 120:
		return _("1 minute")
	return _("{0} minutes").format(seconds // 60)


def gather_scheduler(now: datetime) -> SchedulerFacts:
	# Scheduled Job Log is indexed on modified only (a log row is modified for the last time when its run ends).
	# Runs that ended only: the watchdog's own scheduled run logs its Start as it begins, and must not count as
	# news of the scheduler (a run of it left in the queue when the scheduler stopped would clear the alert).
	last_log = frappe.db.get_value(
		"Scheduled Job Log", {"status": ["!=", "Start"]}, "modified", order_by="modified desc"
	)
	return SchedulerFacts(
		site=frappe.local.site,
		disabled=is_scheduler_disabled(verbose=False),
		disabled_in_config=bool(frappe.conf.disable_scheduler),
		paused=bool(frappe.conf.pause_scheduler),
		maintenance=bool(frappe.conf.maintenance_mode),
		dormant=is_dormant(check_time=now),
		last_log=get_datetime(last_log) if last_log else None,
		process_running=_scheduler_process_running() if _scheduler_process_running else None,
		enqueued_this_run=enqueued_by_scheduler(),
	)


def enqueued_by_scheduler() -> datetime | None:
	"""When the scheduler enqueued the scheduled job this process runs (system time), else None. Its enqueue time,
	not its start: a run left in a queue when the scheduler stopped is old news when a worker picks it up."""
	job = get_current_job()
	if job is None or "::scheduled_job::" not in (job.id or "") or not job.enqueued_at:
		return None
	return convert_utc_to_system_timezone(job.enqueued_at).replace(tzinfo=None)
