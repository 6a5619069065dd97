"""Scheduler entry points registered in hooks.py `scheduler_events`, one line each.

Frappe names Scheduled Job Types after the last two dotted parts of the method, so every function here carries
an `async_jobs_` prefix to stay unique across apps.
"""

from async_jobs.engine.control import lifeline
from async_jobs.engine.health import watchdog
from async_jobs.engine.ops import operations, prune
from async_jobs.engine.schedules import fire
from async_jobs.engine.transport import delayed


def async_jobs_stage_delayed():
	"""Backstop for delayed jobs when no stager process runs: move due ones onto their queues."""
	delayed.stage_due()


def async_jobs_fire_schedules():
	"""Backstop for Async Job Schedules when no stager process runs: fire the due ones (once per tick either way)."""
	fire.fire_due()


def async_jobs_lifeline():
	"""Backstop for the lifeline when no stager process runs: reconcile lost and vanished jobs of this site."""
	lifeline.reconcile()


def async_jobs_watchdog():
	"""Every 5 minutes: scheduler, scheduled jobs and queue health; alerts open and clear themselves."""
	operations.run_if_enabled("enable_watchdog", watchdog.check)


def async_jobs_prune():
	"""Nightly on the long queue (daily_long): delete ledger rows past their retention, in small batches."""
	operations.run_if_enabled("enable_pruning", prune.prune)


def async_jobs_daily_digest():
	"""Daily: the digest mail of the last 24 hours."""
	operations.run_if_enabled("enable_digest", operations.enqueue_long, "async_jobs.engine.ops.digest.send")


def async_jobs_monthly_report():
	"""On the first of the month: last month's PDF report, built on the long queue."""
	operations.run_if_enabled(
		"enable_monthly_report", operations.enqueue_long, "async_jobs.engine.ops.report.send"
	)
