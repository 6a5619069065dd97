"""The Job Monitor as a site manager reads it, in a real browser: chart bars as high as the API's numbers right after
jobs end, jobs that never report progress appearing and moving between sections without a refresh, a queue
position for waiting jobs, one toast per job end, workers by host and pid, filters that narrow everything, and the
page at 800 px. Screenshots land in artifacts/screenshots."""

import re
import socket

import frappe
import pytest

import async_jobs
from async_jobs.engine.views.jobs import job_detail
from tests.support import world
from tests.support.checks import wait_for_status
from tests.support.harness import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]
J = "async_jobs.testing.jobs."


def enqueue_as(user, method, kwargs, queue="short", **options):
	frappe.set_user(user)
	job = async_jobs.enqueue(J + method, kwargs, queue=queue, **options)
	frappe.set_user("Administrator")
	frappe.db.commit()
	return job.name


def open_monitor(page, web):
	page.goto(f"{web}/app/job-monitor")
	page.wait_for_selector(".aj-recent h5", timeout=60_000)
	wait_for(lambda: page.evaluate("async_jobs.events.connected()"), timeout=30, message="the socket")


def api(page, **args) -> dict:
	"""The monitor's data as the page's user gets it, asked from inside the page."""
	return page.evaluate(
		"(args) => frappe.call({method: 'async_jobs.api.monitor', args}).then(r => r.message)", args
	)


def bar_heights(page, dataset: int) -> list[float]:
	return page.evaluate(
		"(i) => [...document.querySelectorAll(`.aj-chart-hours g.dataset-${i} rect`)]"
		".map(r => parseFloat(r.getAttribute('height')) || 0)",
		dataset,
	)


def bars_match(page, charts: dict) -> bool:
	"""The jobs and failures bars as high as the API's counts on one scale (the tallest bar's px per job, ±1 px)."""
	jobs, failures = bar_heights(page, 0), bar_heights(page, 1)
	if (
		len(jobs) != len(charts["jobs"])
		or len(failures) != len(charts["failures"])
		or not max(charts["jobs"])
	):
		return False
	scale = max(jobs) / max(charts["jobs"])
	pairs = [*zip(jobs, charts["jobs"], strict=True), *zip(failures, charts["failures"], strict=True)]
	return max(jobs) > 5 and all(abs(h - v * scale) <= 1.0 for h, v in pairs)


def axis_labels(page) -> list[str]:
	"""The x axis labels the hours chart shows (frappe-charts leaves skipped ones empty)."""
	return page.evaluate(
		"() => [...document.querySelectorAll('.aj-chart-hours .x.axis text')].map(t => t.textContent)"
	)


def section_rows(page, section: str) -> list[str]:
	return page.evaluate(
		"(s) => [...document.querySelectorAll(`.aj-${s} tr[data-job]`)].map(r => r.dataset.job)", section
	)


def test_chart_bars_match_the_api_right_after_jobs_end_and_filters_narrow_cards_and_charts(
	worker_factory, desk, web, screenshot_dir, empty_queues
):
	worker_factory("short")
	page = desk(world.MANAGER)
	open_monitor(page, web)
	page.select_option("[data-fieldname='since_hours'] select", "1")
	page.wait_for_function("() => document.querySelectorAll('.aj-chart-hours .aj-chart-title').length")
	ours = [enqueue_as(world.OWNER, "add", {"a": i, "b": 1}) for i in range(3)]
	ours.append(enqueue_as(world.OWNER, "steps_then_fail", {"n": 1, "delay": 0, "message": "chart"}))
	for name in ours:
		wait_for_status(name, "Finished", "Failed")

	seen = []

	def agree():  # without Refresh: the jobs' ends refresh the page, charts and tables from one response
		data = api(page, since_hours=1)
		shown = set(section_rows(page, "recent"))
		seen[:] = [set(ours) - shown, bar_heights(page, 0), data["charts"], bar_heights(page, 1)]
		return set(ours) <= shown and bars_match(page, data["charts"]) and data

	try:
		data = wait_for(
			agree, timeout=30, interval=0.3, message="the chart's bars to match the API's numbers"
		)
	except TimeoutError as e:
		raise AssertionError(f"{e}: missing rows, bar heights, the API's counts, failure bars: {seen}") from e
	charts = data["charts"]
	assert charts["bucket"] == "5min" and len(charts["starts"]) == 12 and charts["jobs"][-1] >= 4
	labels = axis_labels(page)
	assert labels and all(".." not in label for label in labels), labels
	assert re.fullmatch(r"\d{1,2} \w{3} \d\d:\d\d", labels[0]), labels  # the first label has the date
	note = page.locator(".aj-times-note").inner_text()
	assert f"newest {charts['sample']} finished jobs" in note, note
	count = page.locator(".aj-recent .aj-count").inner_text()
	total = data["totals"]["recent"]
	assert count == (f"(latest 15 of {total})" if total > 15 else f"({total})"), (count, total)
	titles = page.evaluate(
		"() => [...document.querySelectorAll('.page-form [title]')].map(e => e.getAttribute('title'))"
	)
	assert titles and not [t for t in titles if "undefined" in t], titles
	page.screenshot(path=str(screenshot_dir / "job-monitor-charts-last-hour.png"))

	# Filters: the queue filter narrows the queue cards, the status filter the charts.
	page.select_option("[data-fieldname='queue'] select", "short")
	page.wait_for_function("() => document.querySelectorAll('.aj-queue-card').length === 1", timeout=20_000)
	assert page.locator(".aj-queue-card").get_attribute("data-queue") == "short"
	# The job type filter suggests job types; picking one narrows the tables.
	job_type = page.locator("[data-fieldname='job_type'] input")
	job_type.click()
	job_type.type("testing.jobs.add")
	page.locator("[data-fieldname='job_type'] ul li:has-text('async_jobs.testing.jobs.add')").first.click()
	job_type.blur()
	wait_for(
		lambda: page.evaluate(
			"() => { const rows = [...document.querySelectorAll('.aj-recent tr[data-job]')];"
			" return rows.length && rows.every(r => r.innerText.includes('async_jobs.testing.jobs.add')); }"
		),
		timeout=20,
		message="Recently ended to list only the picked job type",
	)
	job_type.fill("")
	job_type.blur()
	page.select_option("[data-fieldname='status'] select", "Failed")
	wanted = {"since_hours": "1", "queue": "short", "status": "Failed"}
	wait_for(
		lambda: page.evaluate("async_jobs.current_monitor.args()") == wanted,
		timeout=20,
		message="the filters",
	)
	failed = api(page, **wanted)["charts"]
	assert failed["jobs"] == failed["failures"] and sum(failed["jobs"]) >= 1
	try:
		wait_for(lambda: bars_match(page, failed), timeout=20, message="the Failed-only bars")
	except TimeoutError as e:
		raise AssertionError(f"{e}: {bar_heights(page, 0)} {bar_heights(page, 1)} {failed}") from e
	assert page.locator(".aj-times-note").inner_text().endswith("Failed jobs") or not failed["sample"]

	# Last 7 days: one bar per day, labelled with the day.
	page.select_option("[data-fieldname='status'] select", "")
	page.select_option("[data-fieldname='since_hours'] select", "168")
	wait_for(lambda: len(bar_heights(page, 0)) == 7, timeout=20, message="7 day bars")
	days = [t for t in axis_labels(page) if t]
	assert len(days) == 7 and all(re.fullmatch(r"\d{1,2} \w{3}", d) for d in days), days
	page.screenshot(path=str(screenshot_dir / "job-monitor-last-7-days.png"))

	# An empty period says so.
	page.fill("[data-fieldname='owner'] input", world.SYSTEM_MANAGER)
	page.keyboard.press("Escape")
	page.locator("[data-fieldname='owner'] input").blur()
	page.wait_for_selector(
		".aj-chart-hours .aj-chart-empty:has-text('No jobs in this period')", timeout=20_000
	)


def test_jobs_that_never_report_progress_appear_and_move_without_refresh_with_their_queue_position(
	worker_factory, desk, web, screenshot_dir, empty_queues
):
	page = desk(world.MANAGER)
	open_monitor(page, web)
	page.evaluate(
		"() => { window.__aj_calls = 0; const call = frappe.call; frappe.call = (o) => { if (o && o.method === 'async_jobs.api.monitor')"
		" window.__aj_calls++; return call(o); }; }"
	)
	first = enqueue_as(world.OWNER, "sleep_quietly", {"seconds": 9}, "long")
	second, third = (enqueue_as(world.OWNER, "sleep_quietly", {"seconds": 2}, "long") for _ in range(2))

	wait_for(
		lambda: {first, second, third} <= set(section_rows(page, "waiting")),
		timeout=30,
		message="the queued jobs to appear in Waiting without a refresh",
	)
	why = page.locator(f".aj-waiting tr[data-job='{first}'] .aj-why").inner_text()
	assert "No worker listens on queue long" in why, why
	waited = page.locator(f".aj-waiting tr[data-job='{first}'] .aj-waited")
	before = waited.inner_text()
	wait_for(lambda: waited.inner_text() != before, timeout=10, message="'Waiting for' to tick")

	proc = worker_factory("long")
	wait_for(
		lambda: first in section_rows(page, "running"), timeout=60, message="the first job to show as running"
	)
	worker_cell = page.locator(f".aj-running tr[data-job='{first}'] .aj-worker").inner_text()
	assert re.fullmatch(
		rf"{re.escape(socket.gethostname())}:{proc.pid} \((bench|fast) worker\)", worker_cell
	), worker_cell
	assert proc.rq_name not in page.locator(".aj-running").inner_text()  # no RQ hash on the page
	wait_for(
		lambda: (
			"Behind 1 job(s) on queue long" in page.locator(f"tr[data-job='{third}'] .aj-why").inner_text()
		),
		timeout=20,
		message="the third job's queue position",
	)
	assert "busy" in page.locator(f"tr[data-job='{second}'] .aj-why").inner_text()
	page.evaluate("document.querySelector('.aj-running').scrollIntoView()")
	page.screenshot(path=str(screenshot_dir / "job-monitor-live-running-and-waiting.png"))
	started = page.locator(f".aj-running tr[data-job='{first}'] [data-ago]")
	wait_for(lambda: started.inner_text() != "just now", timeout=15, message="'Started' to tick")

	wait_for(
		lambda: {first, second, third} <= set(section_rows(page, "recent")),
		timeout=90,
		message="all three to move to Recently ended without a refresh",
	)
	assert not {first, second, third} & set(section_rows(page, "running") + section_rows(page, "waiting"))
	assert page.evaluate("async_jobs.events.connected()"), "the fallback timer refreshed, not realtime"
	assert page.evaluate("window.__aj_calls") >= 3  # refreshed by events, Refresh never pressed

	# The form's data and the attempt log name the worker the same way after it ran.
	detail = job_detail(frappe.get_doc("Async Job", first))
	label = f"{socket.gethostname()}:{proc.pid} ("
	assert detail["worker_label"].startswith(label) and detail["worker"] == proc.rq_name, detail[
		"worker_label"
	]
	assert [a["worker_label"][: len(label)] for a in detail["attempts_log"]] == [label], detail[
		"attempts_log"
	]


def test_one_toast_per_job_end_with_the_job_types_title_and_no_started_toast_on_cancel(
	worker_factory, desk, web, screenshot_dir, empty_queues
):
	worker_factory("short")
	page = desk(world.MANAGER)
	open_monitor(page, web)
	page.evaluate(
		"() => { window.__aj_raw = 0; window.__aj_heard = 0;"
		" frappe.realtime.socket.on('async_jobs:finished', () => window.__aj_raw++);"
		" async_jobs.events.subscribe('test-count', (e) => e === 'async_jobs:finished' && window.__aj_heard++); }"
	)
	failing = enqueue_as(world.MANAGER, "steps_then_fail", {"n": 1, "delay": 0, "message": "toast"})
	wait_for_status(failing, "Failed")
	# The manager owns the job and watches the managers' room: the end arrives twice, through both rooms.
	wait_for(lambda: page.evaluate("window.__aj_raw") >= 2, timeout=20, message="both deliveries of the end")
	toasts = page.locator("#alert-container .desk-alert:has-text('Steps Then Fail')")
	wait_for(lambda: toasts.count() >= 1, timeout=20, message="the failure's toast")
	assert toasts.count() == 1 and page.evaluate("window.__aj_heard") == 1
	assert "Background job Steps Then Fail: Failed" in toasts.first.inner_text()
	wait_for(lambda: failing in section_rows(page, "failed"), timeout=20, message="the failure in Failures")
	assert toasts.count() == 1
	page.screenshot(path=str(screenshot_dir / "job-monitor-one-toast.png"))

	running = enqueue_as(world.MANAGER, "steps", {"n": 400, "delay": 0.1})
	row = page.locator(f".aj-running tr[data-job='{running}']")
	row.wait_for(timeout=60_000)
	row.locator("[data-action='cancel']").click()
	assert "Steps" in page.locator(".modal.show .modal-body").inner_text()
	page.locator(".modal.show .btn-primary:has-text('Yes')").click()
	page.wait_for_selector("#alert-container .desk-alert:has-text('asked to stop')", timeout=20_000)
	wait_for_status(running, "Cancelled", timeout=30)
	cancelled = page.locator("#alert-container .desk-alert:has-text('Background job Steps: Cancelled')")
	wait_for(lambda: cancelled.count() >= 1, timeout=20, message="the cancel's toast")
	alerts = page.locator("#alert-container .desk-alert").all_inner_texts()
	assert cancelled.count() == 1 and not [a for a in alerts if "Started" in a], alerts


def test_the_page_fits_800_px_with_readable_waiting_reasons(worker_factory, desk, web, screenshot_dir):
	delayed = enqueue_as(world.OWNER, "add", {"a": 1, "b": 2}, delay=600)
	try:
		page = desk(world.MANAGER)
		page.set_viewport_size({"width": 800, "height": 900})
		open_monitor(page, web)
		why = page.locator(f".aj-waiting tr[data-job='{delayed}'] .aj-why")
		why.wait_for(timeout=30_000)
		text = why.inner_text()
		assert re.search(r"Delayed until \d\d:\d\d:\d\d, \w{3} \d{1,2} \w{3}", text) and "in 9 min" in text, (
			text
		)
		assert not re.search(r"\d\d:\d\d:\d\d\.\d", text), text  # no microseconds
		assert "not due yet" in page.locator(f"tr[data-job='{delayed}'] .aj-waited").inner_text()
		page.wait_for_selector(".aj-chart-times svg, .aj-chart-times .aj-chart-empty", timeout=20_000)
		box = page.locator(".aj-chart-times").bounding_box()
		width = page.evaluate("document.documentElement.clientWidth")
		assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] > 400, (box, width)
		wait_for(lambda: sum(bar_heights(page, 0)) > 0, timeout=20, message="the hours chart's bars")
		page.locator(".aj-charts").scroll_into_view_if_needed()
		page.wait_for_timeout(
			500
		)  # let the charts' animation end before the screenshot (nothing is asserted)
		page.screenshot(path=str(screenshot_dir / "job-monitor-800px.png"))
		page.screenshot(path=str(screenshot_dir / "job-monitor-800px-full.png"), full_page=True)
	finally:
		async_jobs.cancel(delayed)
		frappe.db.commit()
