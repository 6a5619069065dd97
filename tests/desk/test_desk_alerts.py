"""Watchdog alerts in the Desk (real browser): a live toast for a manager when an alert opens and when it clears,
the alert list, and the settings form with its new sections."""

import uuid

import pytest

from async_jobs.engine.health import alerts
from tests.support import world
from tests.support.alerting import forget_alerts

pytestmark = pytest.mark.browser


@pytest.fixture
def no_alerts():
	forget_alerts()
	yield
	forget_alerts()


def test_a_manager_sees_an_alert_open_and_clear_live_and_finds_it_in_the_list(
	desk, web, no_alerts, screenshot_dir
):
	page = desk(world.MANAGER)
	page.goto(f"{web}/app/async-jobs-alert")
	page.wait_for_function("() => frappe.realtime.socket && frappe.realtime.socket.connected", timeout=60_000)
	title = f"Queue aj-{uuid.uuid4().hex[:6]} has 3 waiting jobs and no worker"
	finding = alerts.Finding("no-worker:aj-test", title, "No RQ worker listens.", "Start one.")

	alerts.sync([finding])
	page.locator("#alert-container").get_by_text(f"Async Jobs alert: {title}").wait_for(timeout=30_000)
	page.reload()
	page.locator(".list-row", has_text=title).wait_for(timeout=30_000)
	page.screenshot(path=str(screenshot_dir / "alert-list.png"))

	alerts.sync([])
	page.locator("#alert-container").get_by_text(f"Alert cleared: {title}").wait_for(timeout=30_000)


def test_the_settings_form_speaks_plainly_in_its_sections_and_labels(desk, web, screenshot_dir):
	"""Sections and labels a site manager understands: no scheduler jargon (daily_long, work horse, DELETE)."""
	page = desk(world.MANAGER)
	page.goto(f"{web}/app/async-jobs-settings")
	for label in ("Clean-up of Old Jobs", "Health Checks", "Alerts", "Daily Summary and Monthly Report"):
		page.get_by_text(label, exact=True).first.wait_for(timeout=30_000)
	# exact, first: the form's timeline may name the same labels ("changed the value of …")
	page.get_by_text("Keep Finished Jobs (days)", exact=True).first.wait_for(timeout=30_000)
	page.get_by_text("Check the Scheduler and the Queues", exact=True).first.wait_for(timeout=30_000)
	text = page.locator(".form-layout").inner_text()
	for jargon in ("daily_long", "work horse", "DELETE", "Rows per", "Grace"):
		assert jargon not in text, jargon
	page.screenshot(path=str(screenshot_dir / "settings.png"))
