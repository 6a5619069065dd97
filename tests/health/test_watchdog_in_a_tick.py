"""The watchdog as the scheduler runs it, in a real worker: the first tick after a long-disabled scheduler runs the
watchdog before any other job has logged, and that run is itself news of the scheduler (no false alert)."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import now_datetime

from async_jobs.engine.health import watchdog
from async_jobs.engine.health.scheduler import RUNNING_SINCE_KEY
from tests.support import harness
from tests.support.alerting import forget_alerts
from tests.support.alerting import scheduler as scheduler_switched
from tests.support.harness import wait_for

pytestmark = [pytest.mark.worker]
WATCHDOG = "tasks.async_jobs_watchdog"  # its Scheduled Job Type


def _silent_here() -> bool:
	frappe.db.rollback()
	return any(f.key == "scheduler-silent" for f in watchdog.findings())


@pytest.fixture
def quiet_scheduler(empty_queues):
	"""Enabled and silent for a day: every log of the last day moved a day back (and forward again after)."""
	with scheduler_switched(1):
		kept = frappe.get_all("Scheduled Job Log", {"scheduled_job_type": WATCHDOG}, pluck="name")
		recent = frappe.get_all(
			"Scheduled Job Log", {"modified": [">", now_datetime() - timedelta(days=1)]}, pluck="name"
		)
		_shift(recent, -1)
		old = frappe.get_doc(  # a scheduler that ran once, two days ago
			{"doctype": "Scheduled Job Log", "scheduled_job_type": WATCHDOG, "status": "Complete"}
		).insert(ignore_permissions=True)
		_shift([old.name], -2)
		try:
			yield
		finally:
			frappe.db.delete(
				"Scheduled Job Log", {"scheduled_job_type": WATCHDOG, "name": ["not in", kept or [""]]}
			)
			_shift(recent, 1)


def _shift(names: list[str], days: int) -> None:
	if names:
		frappe.db.sql(
			"UPDATE `tabScheduled Job Log` SET modified = modified + INTERVAL %s DAY WHERE name IN %s",
			(days, tuple(names)),
		)
	frappe.db.commit()


def test_the_schedulers_own_watchdog_run_after_a_long_silence_opens_no_silent_alert(quiet_scheduler):
	assert _silent_here()  # what a pass outside a scheduled run finds
	forget_alerts()
	frappe.cache.delete_value(RUNNING_SINCE_KEY)  # as after days of a disabled scheduler
	enqueued = now_datetime()
	frappe.get_doc("Scheduled Job Type", WATCHDOG).enqueue(force=True)  # what the first tick does
	frappe.db.commit()
	worker = harness.start_worker()
	try:

		def watchdog_ran():
			frappe.db.rollback()
			return frappe.db.get_value(
				"Scheduled Job Log",
				{"scheduled_job_type": WATCHDOG, "creation": [">", enqueued], "status": "Complete"},
			)

		wait_for(watchdog_ran, timeout=60, interval=0.5, message="the scheduled watchdog run")
	finally:
		worker.stop()
	frappe.db.rollback()
	assert not frappe.get_all("Async Jobs Alert", filters={"alert_key": "scheduler-silent"})
	# the pass ran and judged the scheduler running: it started the count the overdue rules wait for
	assert frappe.cache.get_value(RUNNING_SINCE_KEY)
	forget_alerts()
