"""The Desk of the test site opens in a real headless Chromium, with realtime connected."""

import pytest

from tests.support.harness import ADMIN_PASSWORD, wait_for

pytestmark = pytest.mark.browser


def test_administrator_logs_into_the_desk_and_realtime_connects(browser, web, screenshot_dir):
	page = browser.new_page(viewport={"width": 1280, "height": 800})
	page.goto(f"{web}/login")
	page.fill("#login_email", "Administrator")
	page.fill("#login_password", ADMIN_PASSWORD)
	page.click(".btn-login")
	page.wait_for_url("**/app**", timeout=60_000)
	page.wait_for_selector(".page-container", timeout=60_000)

	assert page.evaluate("frappe.session.user") == "Administrator"
	wait_for(
		lambda: page.evaluate("!!(frappe.realtime.socket && frappe.realtime.socket.connected)"),
		timeout=30,
		message="the Desk's socket.io connection",
	)
	page.screenshot(path=str(screenshot_dir / "desk-home.png"), full_page=True)
	page.close()
