"""The watchdog as an ERPNext site manager meets it (real Chromium, a real `bench schedule`, a real worker): the
scheduler enabled and ticking gives no alert; stopping its process opens exactly one alert, which names the fix and
reaches a System Manager's notifications and screen; starting it again clears that alert."""

import json
from datetime import timedelta

import frappe
import pytest
from frappe.installer import update_site_config
from frappe.utils.background_jobs import get_queues

from async_jobs.engine.health import alerts, watchdog
from async_jobs.engine.health.scheduler import RUNNING_SINCE_KEY, overdue_grace
from tests.support import harness, world
from tests.support.alerting import forget_alerts
from tests.support.harness import wait_for

pytestmark = [pytest.mark.erpnext, pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]
# instead of 5 minutes: how long the log stays quiet before a stopped scheduler is reported
SILENT_SECONDS = 20
WRONG = ("overdue:", "failing:", "scheduler-", "maintenance-mode")


def _site_config(key: str, value) -> None:
	update_site_config(key, value if value is not None else "None")
	if value is None:
		frappe.local.conf.pop(key, None)
	else:
		frappe.local.conf[key] = value


@pytest.fixture
def ticking_site(empty_queues):
	"""The scheduler enabled with a 2-second tick and a worker draining; restored afterwards, no alerts left."""
	enabled = frappe.db.get_single_value("System Settings", "enable_scheduler")
	forget_alerts()
	frappe.cache.delete_value(RUNNING_SINCE_KEY)  # as a watchdog pass of the disabled scheduler leaves it
	frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
	frappe.db.commit()
	harness.set_common_config("scheduler_tick_interval", 2)
	frappe.local.conf.scheduler_tick_interval = 2  # this process's watchdog passes: the grace after a start
	_site_config("async_jobs_scheduler_silent_seconds", SILENT_SECONDS)
	_site_config("async_jobs_max_failure_rate", 0)  # earlier tests' failed jobs are not this test's business
	# Alerts reach the managers by the bell, whatever an earlier test or an older version left in the settings.
	channels = {"alert_role": None, "alert_notification_log": 1}
	before = {k: frappe.db.get_single_value("Async Jobs Settings", k) for k in channels}
	frappe.db.set_single_value("Async Jobs Settings", channels)
	frappe.db.commit()
	worker = harness.start_worker()
	processes = {"worker": worker}
	try:
		yield processes
	finally:
		for proc in processes.values():
			proc.stop()
		for queue in get_queues():  # what the ticks enqueued and nobody ran must not wait for the next tests
			queue.empty()
		harness.set_common_config("scheduler_tick_interval", None)
		frappe.local.conf.pop("scheduler_tick_interval", None)
		_site_config("async_jobs_scheduler_silent_seconds", None)
		_site_config("async_jobs_max_failure_rate", None)
		frappe.db.set_single_value("System Settings", "enable_scheduler", enabled)
		frappe.db.set_single_value("Async Jobs Settings", before)
		forget_alerts()
		frappe.db.commit()


def _watch() -> list[frappe._dict]:
	"""A watchdog pass (unless the scheduler's own pass holds the lock: it does the same), then the alerts open."""
	frappe.db.rollback()
	watchdog.check()
	frappe.db.rollback()
	return alerts.open_alerts()


def test_a_stopped_scheduler_opens_one_alert_that_names_the_fix_and_clears_when_it_runs_again(
	ticking_site, desk, web, screenshot_dir
):
	started = frappe.utils.now_datetime()
	ticking_site["scheduler"] = harness.start_scheduler()

	def ticked_and_drained() -> bool:
		frappe.db.rollback()
		since = {"creation": [">", started]}
		ran = frappe.db.count("Scheduled Job Log", {**since, "status": "Complete"})
		running = frappe.db.count("Scheduled Job Log", {**since, "status": "Start"})
		return ran > 0 and not running and not any(q.count for q in get_queues())

	harness.wait_for(ticked_and_drained, timeout=300, interval=1, message="the first ticks' jobs to run")
	_watch()
	# past the grace after a start: the overdue rules apply to ERPNext's 90-odd job types, and find nothing
	wait_for(
		lambda: frappe.utils.now_datetime() - started > overdue_grace() + timedelta(seconds=5),
		timeout=120,
		interval=1,
		message="the grace after the scheduler's start",
	)
	_watch()
	frappe.db.rollback()
	# no false alert was ever opened: not by these passes, nor by the scheduler's own watchdog job in its ticks
	ever = frappe.get_all("Async Jobs Alert", fields=["alert_key", "title", "message"])
	wrong = [f"{a.alert_key}: {a.title} ({a.message})" for a in ever if a.alert_key.startswith(WRONG)]
	assert not wrong, "\n".join(wrong)
	assert frappe.db.count("Scheduled Job Type", {"stopped": 0}) > 80, "ERPNext's Scheduled Job Types"

	page = desk(world.SYSTEM_MANAGER)
	page.goto(f"{web}/app/async-jobs-alert")
	page.wait_for_selector(".no-result:visible", timeout=60_000)  # no alert on a healthy site
	page.wait_for_function("() => frappe.realtime.socket && frappe.realtime.socket.connected", timeout=60_000)

	ticking_site.pop("scheduler").stop()

	# what its last ticks enqueued runs first (those runs are news of the scheduler, as they are on any site)
	def ticks_ended() -> bool:
		frappe.db.rollback()
		running = frappe.db.count("Scheduled Job Log", {"status": "Start", "creation": [">", started]})
		return not running and not any(q.count for q in get_queues())

	wait_for(ticks_ended, timeout=120, message="the jobs of its last ticks to end")

	open_now = wait_for(
		_watch, timeout=SILENT_SECONDS + 120, interval=2, message="the stopped scheduler's alert"
	)
	# one cause, one alert: no overdue job types beside it
	assert [a.alert_key for a in open_now] == ["scheduler-silent"]
	(alert,) = open_now
	assert "bench schedule" in alert.message and "Start `bench schedule`" in alert.fix
	frappe.db.rollback()
	(notification,) = frappe.get_all(
		"Notification Log",
		filters={"for_user": world.SYSTEM_MANAGER, "document_name": alert.name},
		fields=["subject"],
	)
	assert notification.subject == f"Async Jobs alert: {alert.title}"

	# What the System Manager sees: the live toast, the bell's notification, the alert's form with the fix
	page.locator("#alert-container").get_by_text(f"Async Jobs alert: {alert.title}").wait_for(timeout=30_000)
	page.reload()
	page.locator(".list-row", has_text=alert.title).wait_for(timeout=30_000)
	assert page.locator(".list-row").count() == 1
	assert page.locator(".list-row .indicator-pill:visible").first.inner_text().strip() == "Open"
	page.locator(".dropdown-notifications .notifications-icon").click()
	page.locator(".notification-item", has_text=alert.title).first.wait_for(timeout=30_000)
	page.keyboard.press("Escape")

	page.goto(f"{web}/app/async-jobs-alert/{alert.name}")
	page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=alert.name, timeout=60_000)
	fix = page.locator(".frappe-control[data-fieldname='fix'] .control-value").inner_text()
	assert "Start `bench schedule`" in fix
	assert page.locator(".page-head .indicator-pill:visible").first.inner_text().strip() == "Open"
	assert not page.locator(".primary-action:visible", has_text="Save").count()
	assert page.locator(".page-actions button:visible", has_text="Acknowledge").count() == 1
	page.screenshot(path=str(screenshot_dir / "erpnext-scheduler-alert-form.png"))

	ticking_site["scheduler"] = harness.start_scheduler()
	wait_for(
		lambda: not _watch(),
		timeout=60,
		interval=1,
		message="the alert to clear once the scheduler runs again",
	)
	assert frappe.db.get_value("Async Jobs Alert", alert.name, "status") == "Cleared"
	assert frappe.db.count("Async Jobs Alert") == 1  # it did not open again, nor did anything else
	page.locator("#alert-container").get_by_text(f"Alert cleared: {alert.title}").wait_for(timeout=30_000)
	page.reload()
	page.wait_for_function("() => cur_frm && cur_frm.doc.status === 'Cleared'", timeout=60_000)
	assert page.locator(".page-head .indicator-pill:visible").first.inner_text().strip() == "Cleared"
	assert not page.locator(".page-actions button:visible", has_text="Acknowledge").count()
