"""The Async Job form and list and the alert form as a site manager reads them (real Chromium, real worker): a dead
job's error at the top, its attempt log and retry policy as tables of readable, escaped text; a running job's bar
and Progress fields agreeing; list columns, bars in the status's colour, Retry / Cancel only where they apply and a
bulk retry naming each refused job; the alert form without Save, with Acknowledge, Snooze and its links."""

import re

import frappe
import pytest

import async_jobs
from async_jobs.engine.health import alerts
from tests.support import world
from tests.support.alerting import forget_alerts
from tests.support.checks import wait_for_status
from tests.support.harness import wait_for

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def own_queues(empty_queues):
	"""Only this module's jobs wait in the queues its worker serves."""


F = "async_jobs.testing.jobs."
MARKUP = "<b>not bold</b>"
MICROSECONDS = re.compile(r"\d:\d\d\.\d{3,6}")


def enqueue_as(user, method, kwargs, **options):
	frappe.set_user(user)
	job = async_jobs.enqueue(F + method, kwargs, queue="short", **options)
	frappe.set_user("Administrator")
	frappe.db.commit()
	return job.name


def open_form(page, web, name):
	page.goto(f"{web}/app/async-job/{name}")
	page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=name, timeout=60_000)


def color_of(page, css_color: str) -> str:
	"""The computed colour of the indicator pills' text colour variable for `css_color` (e.g. green)."""
	return page.evaluate(
		"""(c) => { const s = document.createElement('span'); s.style.color = `var(--text-on-${c})`;
		document.body.appendChild(s); const v = getComputedStyle(s).color; s.remove(); return v; }""",
		css_color,
	)


@pytest.mark.worker
def test_a_dead_jobs_form_shows_its_error_first_and_its_attempts_and_policy_as_readable_tables(
	worker, stager, desk, web, screenshot_dir
):
	name = enqueue_as(
		world.OWNER,
		"steps_then_fail",
		{"n": 1, "delay": 0.01, "message": f"{MARKUP}\nsecond line"},
		retry={"max_attempts": 2, "base": 0.5, "jitter": 0},
	)
	wait_for_status(name, "Dead", timeout=90)

	page = desk(world.MANAGER)
	open_form(page, web, name)
	headline = page.locator(".form-message.red").first
	headline.wait_for(timeout=30_000)
	assert headline.inner_text().strip().startswith(f"Dead: RuntimeError: {MARKUP}")
	error = page.locator(".frappe-control[data-fieldname='error']")
	progress = page.locator(".frappe-control[data-fieldname='progress_percent']")
	assert error.is_visible() and error.bounding_box()["y"] < progress.bounding_box()["y"]
	assert error.bounding_box()["y"] < 900, "the error is on the first screen"
	assert f"{MARKUP}\nsecond line" in error.inner_text()  # as text, its line break kept
	assert not page.locator(".frappe-control[data-fieldname='error'] b").count()
	assert not page.locator(".frappe-control[data-fieldname='status'] .control-label.reqd").count()
	assert not page.get_by_text("Secrets redacted").count()  # nothing in its arguments was a secret
	page.screenshot(path=str(screenshot_dir / "async-job-form-failed.png"))

	rows = page.locator(".aj-attempt-log tbody tr")
	assert rows.count() == 2
	for i in range(2):
		cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
		attempt, worker_name, started, ended, duration, outcome, text = cells
		assert attempt == str(i + 1) and worker_name not in ("", "–")
		assert started != "–" and ended != "–" and not MICROSECONDS.search(started + ended)
		assert re.fullmatch(r"\d+\.\d s", duration), duration
		assert outcome == ("Retrying" if i == 0 else "Dead")
		assert text.startswith(f"RuntimeError: {MARKUP}\nsecond line"), text  # a line break, not "\n"
	assert not page.locator(".aj-attempt-log b, .aj-headline-error b").count()  # escaped, not markup
	outcome_pill = rows.nth(1).locator(".indicator-pill")
	assert outcome_pill.evaluate("e => getComputedStyle(e).color") == color_of(page, "red")

	policy = dict(
		zip(
			page.locator(".aj-retry-policy th").all_inner_texts(),
			page.locator(".aj-retry-policy td").all_inner_texts(),
			strict=True,
		)
	)
	assert policy["Attempts in all"] == "2" and policy["Wait before the first retry"] == "0.5 s"
	assert policy["Random variation of each wait"] == "± 0%" and policy["Timeouts are retried"] == "Yes"
	page.locator(".aj-attempt-log").scroll_into_view_if_needed()
	page.screenshot(path=str(screenshot_dir / "async-job-form-attempts.png"))


@pytest.mark.worker
def test_secrets_redacted_shows_only_on_a_job_whose_arguments_had_secrets(worker, desk, web):
	name = enqueue_as(
		world.OWNER, "fingerprint_secrets", {"password": "hunter2", "nested": {"api_key": "k-1"}}
	)
	wait_for_status(name, "Finished")
	page = desk(world.MANAGER)
	open_form(page, web, name)
	page.locator(".frappe-control[data-fieldname='arguments']").get_by_text("Secrets redacted").wait_for(
		state="attached", timeout=30_000
	)


@pytest.mark.worker
def test_a_running_jobs_bar_and_progress_fields_say_the_same_step(worker, desk, web, screenshot_dir):
	name = enqueue_as(world.OWNER, "steps", {"n": 300, "delay": 0.1})
	try:
		wait_for_status(name, "Started")
		page = desk(world.OWNER)
		open_form(page, web, name)
		read = """() => ({
			bar: (document.querySelector('.form-dashboard .progress-message') || {}).textContent || '',
			field: (document.querySelector(".frappe-control[data-fieldname='progress_message'] .control-value") || {}).textContent || '',
			done: (document.querySelector(".frappe-control[data-fieldname='progress_done'] .control-value") || {}).textContent || '',
		})"""
		seen = []

		def moved_three_times():
			state = page.evaluate(read)
			if state["bar"] and (not seen or seen[-1] != state):
				seen.append(state)
			return len({s["bar"] for s in seen}) >= 3

		wait_for(moved_three_times, timeout=60, interval=0.05, message="the bar to move")
		for state in seen:
			step = re.search(r"step (\d+) of 300", state["bar"]).group(1)
			assert state["field"].strip() == state["bar"].strip() and state["done"].strip() == step, state
		page.screenshot(path=str(screenshot_dir / "async-job-form-running.png"))
	finally:
		async_jobs.cancel(name)
		frappe.db.commit()


@pytest.mark.worker
def test_the_list_shows_queue_owner_duration_error_coloured_bars_and_offers_only_what_applies(
	worker, desk, web, screenshot_dir
):
	finished = [enqueue_as(world.OWNER, "steps", {"n": 2, "delay": 0.01}) for _ in range(2)]
	failed = enqueue_as(world.OTHER, "steps_then_fail", {"n": 2, "delay": 0.01, "message": MARKUP})
	for name in finished:
		wait_for_status(name, "Finished")
	wait_for_status(failed, "Failed")
	names = [*finished, failed]

	page = desk(world.MANAGER)
	page.evaluate(
		"(names) => { frappe.route_options = {name: ['in', names]}; frappe.set_route('List', 'Async Job'); }",
		names,
	)
	page.wait_for_function("() => window.cur_list && cur_list.doctype === 'Async Job'", timeout=60_000)
	rows = page.locator(".list-row-container .list-row")
	wait_for(lambda: rows.count() == 3, timeout=30, message="the three jobs in the list")
	header = [t.strip() for t in page.locator(".list-row-head .list-row-col").all_inner_texts()]
	for label in ("Queue", "Owner", "Progress", "Duration", "Error"):
		assert label in header, header

	def row(name):
		return page.locator(".list-row-container", has=page.locator(f"[data-name='{name}']")).first

	green, red = color_of(page, "green"), color_of(page, "red")
	for name in finished:
		bar = row(name).locator(".aj-list-progress .progress-bar")
		assert bar.evaluate("e => getComputedStyle(e).backgroundColor") == green
		assert bar.evaluate("e => e.style.width") == "100%"
		assert row(name).locator(".indicator-pill:visible").first.inner_text().strip() == "Finished"
		assert re.fullmatch(r"\d+\.\d s", row(name).locator(".aj-duration").inner_text().strip())
		assert world.OWNER in row(name).inner_text()
		assert not row(name).locator(".aj-error").count()
	bar = row(failed).locator(".aj-list-progress .progress-bar")
	assert bar.evaluate("e => getComputedStyle(e).backgroundColor") == red
	assert row(failed).locator(".aj-error").inner_text().strip() == f"RuntimeError: {MARKUP}: failed"
	assert (
		row(failed).locator(".indicator-pill:visible").first.evaluate("e => getComputedStyle(e).color") == red
	)
	assert "short" in row(failed).inner_text() and world.OTHER in row(failed).inner_text()
	page.screenshot(path=str(screenshot_dir / "async-job-list.png"))

	list_page = page.locator(".page-container:visible")
	actions = list_page.locator(".actions-btn-group .dropdown-menu")

	def offered(*checked):
		page.evaluate("() => cur_list.$result.find('.list-row-checkbox:checked').click()")
		for name in checked:
			row(name).locator(".list-row-checkbox").check()
		list_page.locator(".actions-btn-group > button").click()
		actions.wait_for(state="visible")
		items = {t.strip() for t in actions.locator("li:visible .menu-item-label").all_inner_texts()}
		page.keyboard.press("Escape")
		return items

	only_finished = offered(finished[0])
	assert "Retry" not in only_finished and "Cancel" not in only_finished, only_finished
	with_failed = offered(finished[0], failed)
	assert "Retry" in with_failed and "Cancel" not in with_failed, with_failed

	offered(*names)
	list_page.locator(".actions-btn-group > button").click()
	actions.locator("li:visible a", has_text="Retry").click()
	page.locator(".modal.show .btn-primary:has-text('Yes')").click()
	report = page.locator(".modal.show .aj-refused")
	report.wait_for(timeout=30_000)
	refused = {
		r.get_attribute("data-job"): r.locator(".aj-reason").inner_text()
		for r in report.locator("tbody tr").all()
	}
	assert set(refused) == set(finished)
	assert all("It is Finished: only failed" in reason for reason in refused.values())
	assert "Retried 1 job(s), refused 2" in page.locator(".modal.show .modal-title").inner_text()
	page.screenshot(path=str(screenshot_dir / "async-job-list-bulk-retry.png"))
	wait_for_status(failed, "Queued", "Started", "Failed", timeout=30)


@pytest.fixture
def no_alerts():
	forget_alerts()
	yield
	forget_alerts()


def test_the_alert_form_has_no_save_and_is_acknowledged_snoozed_and_linked_to_its_queue(
	desk, web, no_alerts, screenshot_dir
):
	finding = alerts.Finding(
		"no-worker:short",
		"Queue short has 3 waiting jobs and no worker",
		"No RQ worker listens on queue short: its jobs will never run.",
		"Start one: `bench worker --queue short`.",
		queue="short",
	)
	alerts.sync([finding], notify=False)
	name = frappe.db.get_value("Async Jobs Alert", {"alert_key": finding.key}, "name")

	page = desk(world.SYSTEM_MANAGER)  # the RQ Job list the queue link opens is for System Managers
	page.goto(f"{web}/app/async-jobs-alert/{name}")
	page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=name, timeout=60_000)
	indicator = page.locator(".page-head .indicator-pill:visible").first
	assert indicator.inner_text().strip() == "Open"
	assert indicator.evaluate("e => getComputedStyle(e).color") == color_of(page, "red")
	assert not page.locator(".page-head .primary-action:visible").count(), (
		"no Save on a form with nothing to edit"
	)
	assert "short" in page.locator(".frappe-control[data-fieldname='queue'] .control-value").inner_text()
	page.screenshot(path=str(screenshot_dir / "alert-form.png"))

	page.locator(".page-actions button:visible", has_text="Acknowledge").click()
	page.wait_for_function("() => cur_frm.doc.status === 'Acknowledged'", timeout=30_000)
	assert indicator.inner_text().strip() == "Acknowledged"
	assert (
		world.SYSTEM_MANAGER in page.locator(".frappe-control[data-fieldname='acknowledged_by']").inner_text()
	)
	assert not page.locator(".page-actions button:visible", has_text="Acknowledge").count()

	page.locator(".page-actions button:visible", has_text="Snooze").click()
	page.locator(".modal.show select[data-fieldname='for']").select_option("1 hour")
	page.locator(".modal.show .btn-primary:has-text('Snooze')").click()
	page.wait_for_function("() => cur_frm.doc.status === 'Snoozed'", timeout=30_000)
	assert indicator.inner_text().strip() == "Snoozed"
	frappe.db.rollback()
	until = frappe.db.get_value("Async Jobs Alert", name, "snoozed_until")
	assert 55 * 60 < (until - frappe.utils.now_datetime()).total_seconds() <= 3600
	page.screenshot(path=str(screenshot_dir / "alert-form-snoozed.png"))

	page.locator(".page-actions button:visible", has_text="Go to").click()
	page.locator(".dropdown-menu.show a", has_text="Waiting jobs in queue short").click()
	page.wait_for_url("**/app/rq-job**", timeout=30_000)
	page.wait_for_function(
		"() => window.cur_list && cur_list.doctype === 'RQ Job' && cur_list.filter_area", timeout=60_000
	)
	filters = page.evaluate("() => cur_list.filter_area.get().map((f) => [f[1], f[3]])")
	assert ["queue", "short"] in filters, filters
