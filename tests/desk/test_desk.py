"""The Desk in a real browser: a form button with live progress, the Job Monitor (cancel, why waiting, privacy),
the Async Job list and the workspace. Screenshots land in artifacts/screenshots."""

import re

import frappe
import pytest

import async_jobs
from async_jobs.testing.data_record import RECORD
from tests.support import world
from tests.support.checks import row, wait_for_status
from tests.support.harness import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def form_bar_width(page) -> str | None:
	"""The width style ("37%") of the progress bar in the open form's dashboard, if one shows."""
	return page.evaluate(
		"() => { const b = document.querySelector('.form-dashboard .progress-bar');"
		" return b ? b.style.width : null; }"
	)


def enqueue_as(user, method, kwargs, **options):
	frappe.set_user(user)
	job = async_jobs.enqueue("async_jobs.testing.jobs." + method, kwargs, queue="short", **options)
	frappe.set_user("Administrator")
	frappe.db.commit()
	return job.name


def test_a_user_presses_the_form_button_and_watches_the_bar_to_the_completion_alert(
	worker, desk, web, screenshot_dir
):
	frappe.set_user(world.OWNER)
	record = frappe.get_doc(
		{"doctype": RECORD, "title": "desk", "items": [{"value": str(i)} for i in range(12)]}
	)
	record.insert()
	frappe.set_user("Administrator")
	frappe.db.commit()

	page = desk(world.OWNER)
	page.goto(f"{web}/app/{RECORD.lower().replace(' ', '-')}/{record.name}")
	page.wait_for_selector(".form-layout", timeout=60_000)
	page.click("button:has-text('Background Jobs')")
	page.click(".dropdown-menu.show >> text=Process Items")

	seen = set()

	def bar_done():
		width = form_bar_width(page)
		if width and width.endswith("%"):
			percent = float(width[:-1])
			if 0 < percent < 100 and not any(0 < p < 100 for p in seen):
				page.screenshot(path=str(screenshot_dir / "form-button-progress.png"))
			seen.add(percent)
		return frappe.db.rollback() or frappe.db.get_value(RECORD, record.name, "status") == "Completed"

	wait_for(bar_done, timeout=60, interval=0.05, message="the job to complete")
	intermediate = {p for p in seen if 0 < p < 100}
	assert len(intermediate) >= 2, f"bar widths seen: {sorted(seen)}"
	page.wait_for_selector("#alert-container .desk-alert:has-text('finished')", timeout=20_000)
	page.wait_for_function(
		"(n) => cur_frm && cur_frm.doc.name === n && cur_frm.doc.status === 'Completed'",
		arg=record.name,
		timeout=20_000,
	)
	page.screenshot(path=str(screenshot_dir / "form-button-completed.png"))


def test_a_manager_cancels_a_running_job_from_the_job_monitor(worker, desk, web, screenshot_dir):
	name = enqueue_as(world.OWNER, "steps", {"n": 400, "delay": 0.1})
	wait_for_status(name, "Started")

	page = desk(world.MANAGER)
	page.goto(f"{web}/app/job-monitor")
	running = page.locator(f".aj-running tr[data-job='{name}']")
	running.wait_for(timeout=60_000)
	percent = running.locator(".aj-percent")
	first = percent.inner_text()
	wait_for(lambda: percent.inner_text() != first, timeout=20, message="the bar to move without a reload")
	page.screenshot(path=str(screenshot_dir / "job-monitor-running.png"), full_page=False)

	running.locator("[data-action='cancel']").click()
	page.locator(".modal.show .btn-primary:has-text('Yes')").click()
	wait_for_status(name, "Cancelled", timeout=20)
	page.locator(f".aj-running tr[data-job='{name}']").wait_for(state="detached", timeout=20_000)
	page.locator(f".aj-recent tr[data-job='{name}']").wait_for(timeout=20_000)
	page.screenshot(path=str(screenshot_dir / "job-monitor-cancelled.png"), full_page=False)


def test_the_monitor_explains_why_a_job_waits_and_draws_its_charts_and_queue_cards(
	worker, desk, web, screenshot_dir
):
	name = enqueue_as(world.OWNER, "add", {"a": 1, "b": 1}, delay=600)
	try:
		page = desk(world.MANAGER)
		page.goto(f"{web}/app/job-monitor")
		why = page.locator(f".aj-waiting tr[data-job='{name}'] .aj-why")
		why.wait_for(timeout=60_000)
		assert "Delayed until" in why.inner_text()
		assert page.locator(".aj-queue-card[data-queue='short']").count() == 1
		assert page.locator(".aj-chart-hours svg").count() and page.locator(".aj-chart-times svg").count()
		page.wait_for_function(  # the bars grown from zero (frappe-charts animates its first draw)
			"() => [...document.querySelectorAll('.aj-chart-hours g.dataset-0 rect')]"
			".some(r => parseFloat(r.getAttribute('height')) > 5)",
			timeout=20_000,
		)
		page.wait_for_timeout(500)  # for the screenshot only: the animation's last frames
		page.screenshot(path=str(screenshot_dir / "job-monitor-waiting-and-charts.png"), full_page=False)
	finally:
		async_jobs.cancel(name)
		frappe.db.commit()


def test_a_normal_user_sees_only_their_own_jobs_in_the_monitor_and_the_list(
	worker, desk, web, screenshot_dir
):
	owners = enqueue_as(world.OWNER, "add", {"a": 2, "b": 2})
	mine = enqueue_as(world.OTHER, "add", {"a": 3, "b": 3})
	wait_for_status(owners, "Finished")
	wait_for_status(mine, "Finished")

	page = desk(world.OTHER)
	page.goto(f"{web}/app/job-monitor")
	page.locator(f".aj-recent tr[data-job='{mine}']").wait_for(timeout=60_000)
	assert page.locator(f"tr[data-job='{owners}']").count() == 0
	assert page.locator(".aj-queue-card").count() == 0, "queue cards are for managers"
	page.screenshot(path=str(screenshot_dir / "job-monitor-normal-user.png"), full_page=False)

	page.goto(f"{web}/app/async-job?status=Finished")
	page.wait_for_selector(f"a[href*='{mine}'], [data-name='{mine}']", timeout=60_000)
	assert owners not in page.content()
	page.screenshot(path=str(screenshot_dir / "async-job-list.png"), full_page=False)


def test_the_workspace_loads_without_a_server_error_and_links_every_part(desk, web, screenshot_dir):
	"""The workspace's shortcuts and its Links card (batches and alerts too) render, and no request fails."""
	page = desk(world.MANAGER)
	failed = []
	page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 500 else None)
	page.goto(f"{web}/app/async-jobs")
	page.wait_for_selector("text=Job Monitor", timeout=60_000)
	card = page.locator(".links-widget-box")
	card.first.wait_for(timeout=30_000)
	for label in ("Async Job Batch", "Async Jobs Alert", "Async Jobs Settings"):
		assert card.locator(f"a:has-text('{label}')").count(), f"no {label} link in the Links card"
	assert page.locator(".shortcut-widget-box:has-text('Async Jobs Settings')").count()
	page.wait_for_load_state("networkidle")
	page.screenshot(path=str(screenshot_dir / "workspace.png"), full_page=True)
	assert not failed, failed
	assert re.search(r"/app/async-jobs", page.url)


def test_a_batch_shows_live_progress_on_the_monitor_and_on_its_document(worker, desk, web, screenshot_dir):
	frappe.set_user(world.OWNER)
	record = frappe.get_doc({"doctype": RECORD, "title": "batch", "items": [{"value": "1"}]}).insert()
	batch = async_jobs.enqueue_batch(
		"async_jobs.testing.jobs.steps",
		[{"n": 8, "delay": 0.2} for _ in range(8)],
		queue="short",
		title="eight steps",
		reference_doctype=RECORD,
		reference_name=record.name,
	)
	frappe.set_user("Administrator")
	frappe.db.commit()

	page = desk(world.OWNER)
	page.goto(f"{web}/app/job-monitor")
	page.wait_for_selector(f".aj-batches tr[data-job='{batch.name}'] .aj-progress", timeout=60_000)
	page.screenshot(path=str(screenshot_dir / "job-monitor-batch.png"), full_page=True)

	page.goto(f"{web}/app/{RECORD.lower().replace(' ', '-')}/{record.name}")
	page.wait_for_selector(".form-layout", timeout=60_000)
	widths = set()

	def ended():
		width = form_bar_width(page)
		if width and width.endswith("%"):
			widths.add(float(width[:-1]))
			if len(widths) == 2:
				page.screenshot(path=str(screenshot_dir / "batch-on-its-document.png"))
		return page.locator(".alert-message:has-text('eight steps')").count() > 0

	wait_for(
		ended, timeout=120, interval=0.1, message="the batch's bar and its end alert on its document's form"
	)
	assert len(widths) >= 2, widths  # the bar moved while the batch ran

	page.goto(f"{web}/app/async-job-batch/{batch.name}")
	page.wait_for_selector(".indicator-pill:has-text('Finished')", timeout=60_000)
	page.wait_for_selector(
		"text=8 of 8 ended · 0 failed", timeout=30_000
	)  # the counts in the form's headline
	page.screenshot(path=str(screenshot_dir / "batch-form.png"))
