"""Job-written text in the Desk is text, never markup: a progress message, a batch title and an error that carry
an <img onerror> draw as text on the document's form and run no script (real Chromium, real worker). A bar the
form never drew can be hidden: the end of a batch is still announced."""

import frappe
import pytest

import async_jobs
from async_jobs.testing.data_record import RECORD
from tests.support import world
from tests.support.checks import wait_for_status
from tests.support.harness import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]
F = "async_jobs.testing.jobs."
MARKUP = '<img src=x onerror="window.__aj_xss = (window.__aj_xss || 0) + 1">'
STATE = """() => ({
	xss: window.__aj_xss || 0,
	img: document.querySelectorAll('img[src="x"]').length,
	bars: [...document.querySelectorAll('.form-dashboard .progress-message')].map((p) => p.textContent),
	alerts: [...document.querySelectorAll('#alert-container .alert-message')].map((a) => a.textContent),
	dialogs: [...document.querySelectorAll('.modal.show .modal-body')].map((d) => d.textContent),
})"""


def open_record(desk, web, owner: str):
	frappe.set_user(owner)
	record = frappe.get_doc({"doctype": RECORD, "title": "markup", "items": [{"value": "1"}]}).insert()
	frappe.set_user("Administrator")
	frappe.db.commit()
	page = desk(owner)
	page.goto(f"{web}/app/{RECORD.lower().replace(' ', '-')}/{record.name}")
	page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=record.name, timeout=60_000)
	return page, record.name


def test_markup_in_a_progress_message_a_batch_title_and_an_error_is_drawn_as_text(worker, desk, web):
	page, record = open_record(desk, web, world.OWNER)
	frappe.set_user(world.OWNER)
	about = {"reference_doctype": RECORD, "reference_name": record}
	job = async_jobs.enqueue(
		F + "steps_then_fail", {"n": 8, "delay": 0.2, "message": MARKUP}, queue="short", **about
	).name
	batch = async_jobs.enqueue_batch(
		F + "steps", [{"n": 4, "delay": 0.2}] * 2, queue="short", title=MARKUP, **about
	).name
	frappe.set_user("Administrator")
	frappe.db.commit()

	states = []

	def ended_on_the_form():  # the batch's end alert and the job's failure dialog are up
		states.append(state := page.evaluate(STATE))
		return any(a.startswith("Batch") and "Finished" in a for a in state["alerts"]) and state["dialogs"]

	wait_for(ended_on_the_form, timeout=90, interval=0.1, message="the batch's alert and the job's dialog")
	wait_for_status(job, "Failed")
	states.append(page.evaluate(STATE))
	assert all(state["xss"] == 0 and state["img"] == 0 for state in states), states[-1]
	assert any(text.startswith(MARKUP) for state in states for text in state["bars"])  # the progress message
	assert any(MARKUP in text for text in states[-1]["alerts"])  # the batch's title
	assert any(MARKUP in text for text in states[-1]["dialogs"])  # the job's error
	assert frappe.db.get_value("Async Job Batch", batch, "status") == "Finished"


def test_a_batch_that_ends_on_a_form_that_never_drew_its_bar_is_still_announced(desk, web):
	page, record = open_record(desk, web, world.OWNER)
	ended = {
		"name": "aj-never-drawn",
		"title": "never drawn",
		"status": "Failed",
		"reference_doctype": RECORD,
	}
	page.evaluate(
		"(batch) => async_jobs.batch.on_event('async_jobs:batch', batch)", {**ended, "reference_name": record}
	)
	page.wait_for_selector("#alert-container .alert-message:has-text('never drawn')", timeout=20_000)
