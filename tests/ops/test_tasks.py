"""Scheduler tasks: hooks give each a Scheduled Job Type of its own; each honours its enable flag; run the way the
scheduler runs them (Scheduled Job Type → RQ → a real worker) they do their work and log Complete."""

import uuid

import frappe
import pytest

from async_jobs import tasks
from tests.support.alerting import forget_alerts
from tests.support.harness import wait_for

TASKS = {
	"tasks.async_jobs_watchdog": ("Cron", "*/5 * * * *"),
	"tasks.async_jobs_prune": ("Daily Long", None),
	"tasks.async_jobs_daily_digest": ("Daily", None),
	"tasks.async_jobs_monthly_report": ("Cron", "0 6 1 * *"),
	"tasks.async_jobs_lifeline": ("Cron", "* * * * *"),
}


@pytest.fixture
def settings():
	"""Async Jobs Settings to change in a test, with the scheduler off (as on the test site); restored afterwards."""
	scheduler = frappe.db.get_single_value("System Settings", "enable_scheduler")
	frappe.db.set_single_value("System Settings", "enable_scheduler", 0)
	doc = frappe.get_doc("Async Jobs Settings")
	before = doc.as_dict()
	yield doc
	doc.reload()
	doc.update({k: v for k, v in before.items() if k not in ("modified", "creation")})
	doc.save()
	frappe.db.set_single_value("System Settings", "enable_scheduler", scheduler)
	forget_alerts()
	frappe.db.commit()


def test_every_task_has_its_own_scheduled_job_type():
	for name, (frequency, cron) in TASKS.items():
		row = frappe.db.get_value(
			"Scheduled Job Type", name, ["frequency", "cron_format", "method"], as_dict=True
		)
		assert row and row.frequency == frequency and (row.cron_format or None) == cron, name
		assert row.method == f"async_jobs.{name}"


def test_a_task_whose_flag_is_off_does_nothing(settings):
	settings.enable_watchdog = 0
	settings.save()
	forget_alerts()
	frappe.db.commit()
	tasks.async_jobs_watchdog()
	assert not frappe.db.count("Async Jobs Alert")

	settings.enable_watchdog = 1
	settings.save()
	frappe.db.commit()
	tasks.async_jobs_watchdog()
	assert frappe.db.count("Async Jobs Alert", {"alert_key": "scheduler-disabled"}) == 1


@pytest.mark.worker
def test_the_scheduler_path_runs_the_watchdog_and_the_digest_on_real_workers(
	settings, worker_factory, empty_queues
):
	worker_factory("default,long")
	settings.enable_digest = 1
	address = f"aj-digest-{uuid.uuid4().hex[:8]}@example.com"
	settings.digest_recipients = address
	settings.save()
	forget_alerts()
	frappe.db.commit()

	started = frappe.utils.now_datetime()
	for name in ("tasks.async_jobs_watchdog", "tasks.async_jobs_daily_digest"):
		assert frappe.get_doc("Scheduled Job Type", name).enqueue(force=True)  # what the scheduler tick does

	def logged(name):
		frappe.db.rollback()
		return frappe.db.get_value(
			"Scheduled Job Log", {"scheduled_job_type": name, "creation": [">=", started]}, "status"
		)

	wait_for(
		lambda: logged("tasks.async_jobs_watchdog") == "Complete", timeout=60, message="the watchdog run"
	)
	assert frappe.db.count("Async Jobs Alert", {"alert_key": "scheduler-disabled", "status": "Open"}) == 1
	wait_for(
		lambda: logged("tasks.async_jobs_daily_digest") == "Complete", timeout=60, message="the digest task"
	)
	wait_for(  # the task enqueued the digest on the long queue; the worker built and queued the mail
		lambda: frappe.db.rollback() or frappe.db.exists("Email Queue Recipient", {"recipient": address}),
		timeout=60,
		message="the digest mail",
	)
