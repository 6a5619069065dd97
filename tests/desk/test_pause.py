"""Pause and resume from the Desk: a manager presses Pause on a queue card of the Job Monitor (confirmed), no job
of that queue starts on either worker kind while the card says Paused, and Resume lets them run."""

import frappe
import pytest
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import get_redis_conn

import async_jobs
from async_jobs.engine.transport import pause
from tests.support import world
from tests.support.checks import row, todo_count, wait_for_status
from tests.support.harness import start_worker, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]

F = "async_jobs.testing.jobs."


@pytest.fixture
def resumed():
	yield
	get_redis_conn().hdel(pause.PAUSED_KEY, "long")


def press(page, queue: str, label: str) -> None:
	page.locator(f".aj-queue-card[data-queue='{queue}'] button[data-pause-queue]:has-text('{label}')").click()
	page.locator(".modal.show .btn-primary").click()  # the confirmation


@pytest.mark.parametrize("kind", ["bench", "fast"])
def test_a_manager_pauses_a_queue_on_its_card_and_resumes_it(
	kind, desk, web, screenshot_dir, resumed, empty_queues
):
	marker = f"aj-desk-pause-{kind}-{frappe.generate_hash(length=6)}"
	worker = start_worker("short,long", kind=kind)
	try:
		page = desk(world.MANAGER)
		page.goto(f"{web}/app/job-monitor")
		page.wait_for_selector(".aj-queue-card[data-queue='long']", timeout=60_000)
		press(page, "long", "Pause")
		wait_for(
			lambda: "long" in pause.paused(get_redis_conn()), timeout=30, message="the queue to be paused"
		)
		page.wait_for_selector(".aj-queue-card[data-queue='long'] .aj-paused", timeout=30_000)
		assert world.MANAGER in page.locator(".aj-queue-card[data-queue='long'] .aj-paused").inner_text()

		name = async_jobs.enqueue(F + "record_marker", {"marker": f"{marker}-tracked"}, queue="long").name
		frappe_enqueue(F + "record_marker", queue="long", marker=f"{marker}-plain")
		probe = async_jobs.enqueue(F + "add", {"a": 1, "b": 1}, queue="short").name
		frappe.db.commit()
		wait_for_status(probe, "Finished")  # the worker dequeues, and skips the paused queue
		page.click("button:has-text('Refresh')")
		page.wait_for_selector(
			f".aj-waiting tr[data-job='{name}'] .aj-why:has-text('is paused')", timeout=30_000
		)
		page.screenshot(path=str(screenshot_dir / f"job-monitor-queue-paused-{kind}.png"))
		assert row(name).status == "Queued" and todo_count(marker) == 0

		press(page, "long", "Resume")
		wait_for_status(name, "Finished")
		wait_for(lambda: todo_count(marker) == 2, timeout=60, message="the plain job to run too")
		assert "long" not in pause.paused(get_redis_conn())
		page.wait_for_selector(
			".aj-queue-card[data-queue='long'] button[data-pause-queue]:has-text('Pause')", timeout=30_000
		)
	finally:
		worker.stop()


def test_pausing_from_the_api_is_for_managers_only(clients, web, resumed):
	owner = clients[world.OWNER].post(f"{web}/api/method/async_jobs.api.pause_queue", data={"queue": "long"})
	assert owner.status_code == 403 and "long" not in pause.paused(get_redis_conn())
	bad = clients[world.MANAGER].post(f"{web}/api/method/async_jobs.api.pause_queue", data={"queue": "nope"})
	assert bad.status_code == 417 and "queue must be one of" in bad.text
	ok = clients[world.MANAGER].post(f"{web}/api/method/async_jobs.api.pause_queue", data={"queue": "long"})
	assert ok.status_code == 200 and ok.json()["message"]["by"] == world.MANAGER
	resumed_ = clients[world.MANAGER].post(
		f"{web}/api/method/async_jobs.api.resume_queue", data={"queue": "long"}
	)
	assert resumed_.json()["message"]["resumed"] is True
