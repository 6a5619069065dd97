"""A manager makes an Async Job Schedule in the Desk (real Chromium): picks a job type and a time zone, types a
cron expression, saves, reads the next runs in both time zones and, once the stager has fired it, its first run."""

from datetime import timedelta

import frappe
import pytest

from async_jobs.engine.schedules import cron
from tests.support import world
from tests.support.harness import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]
ZONE = "Asia/Kathmandu"


@pytest.fixture
def schedule_name():
	name = f"aj-test-desk-{frappe.generate_hash(length=6)}"
	yield name
	frappe.db.rollback()
	if frappe.db.exists("Async Job Schedule", name):
		frappe.delete_doc("Async Job Schedule", name, force=True)
		frappe.db.commit()


def pick(page, fieldname: str, text: str) -> None:
	"""Type into an Autocomplete field and choose the suggestion."""
	field = page.locator(f".frappe-control[data-fieldname='{fieldname}'] input")
	field.click()
	field.fill(text)
	page.locator(
		f".frappe-control[data-fieldname='{fieldname}'] .awesomplete li", has_text=text
	).first.click()


def test_a_manager_creates_a_schedule_and_sees_its_next_runs_and_then_its_first_run(
	desk, web, worker, stager, schedule_name, screenshot_dir
):
	page = desk(world.MANAGER)
	page.goto(f"{web}/app/async-job-schedule/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Async Job Schedule'", timeout=60_000)
	page.locator(".frappe-control[data-fieldname='schedule_name'] input").fill(schedule_name)
	page.wait_for_function("() => (cur_frm.fields_dict.time_zone._data || []).length > 0", timeout=30_000)
	pick(page, "job_type", "aj-test-add")
	page.evaluate("() => cur_frm.set_value('arguments', JSON.stringify({a: 2, b: 3}))")
	page.locator(".frappe-control[data-fieldname='cron'] input").fill("* * * * *")
	pick(page, "time_zone", ZONE)
	page.locator("input[data-fieldname='run_when_scheduler_inactive']").check()
	page.keyboard.press("Control+s")
	page.wait_for_function(
		"(n) => cur_frm.docname === n && !cur_frm.is_dirty() && !cur_frm.is_new()",
		arg=schedule_name,
		timeout=30_000,
	)
	page.wait_for_selector(".aj-next-run", timeout=30_000)
	shown = page.locator(".aj-next-run")
	assert shown.count() == 5
	frappe.db.rollback()
	doc = frappe.get_doc("Async Job Schedule", schedule_name)
	assert (doc.job_type, doc.time_zone, doc.queue, doc.owner) == (
		"aj-test-add",
		ZONE,
		"short",
		world.MANAGER,
	)
	expected = [doc.next_run_at + timedelta(minutes=i) for i in range(5)]
	assert [page.locator(".aj-next-run").nth(i).get_attribute("data-at") for i in range(5)] == [
		str(t) for t in expected
	]
	local = cron.to_zone(expected[0], cron.zone(ZONE)).strftime("%H:%M")
	assert local in shown.first.inner_text() and "+0545" in shown.first.inner_text()
	page.screenshot(path=str(screenshot_dir / "schedule-next-runs.png"))

	wait_for(
		lambda: (
			frappe.db.rollback()
			or frappe.db.get_value("Async Job", {"schedule": schedule_name, "status": "Finished"})
		),
		timeout=100,
		interval=1,
		message="the schedule's first run to finish",
	)
	page.reload()
	page.wait_for_selector(".aj-schedule-run", timeout=30_000)
	run = page.locator(".aj-schedule-run").first
	assert "Finished" in run.inner_text()
	job = frappe.db.get_value(
		"Async Job", run.get_attribute("data-job"), ["owner", "result", "schedule"], as_dict=True
	)
	assert (job.owner, job.result, job.schedule) == (world.MANAGER, "5", schedule_name)
	page.screenshot(path=str(screenshot_dir / "schedule-first-run.png"))
