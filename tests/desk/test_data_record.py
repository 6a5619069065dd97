"""The seed's flow end to end: a whitelisted method validates and enqueues; a real worker processes the record
item by item, moves it Processing → Completed / Failed, and mails the owner."""

import frappe
import pytest

from async_jobs.testing.data_record import RECORD
from tests.support import world
from tests.support.checks import wait_for_status
from tests.support.harness import BASE_URL

pytestmark = pytest.mark.worker
START = f"{BASE_URL}/api/method/async_jobs.testing.data_record.start_processing"


@pytest.fixture
def make_record():
	made = []

	def make(values, user=world.OWNER):
		frappe.set_user(user)
		doc = frappe.get_doc(
			{"doctype": RECORD, "title": "seed", "items": [{"value": v} for v in values]}
		).insert()
		frappe.set_user("Administrator")
		frappe.db.commit()
		made.append(doc.name)
		return doc.name

	yield make
	frappe.db.rollback()
	for name in made:
		frappe.delete_doc(RECORD, name, force=True)
	frappe.db.commit()


def record(name):
	frappe.db.rollback()
	return frappe.get_doc(RECORD, name)


def test_processing_completes_the_record_reports_progress_per_item_and_mails_the_owner(
	worker, clients, make_record
):
	name = make_record(["a", "b", "c", "d", "e"])
	response = clients[world.OWNER].post(START, data={"name": name}, timeout=30)
	assert response.status_code == 200, response.text
	job = response.json()["message"]["name"]
	assert record(name).status == "Processing"

	done = wait_for_status(job, "Finished")
	doc = record(name)
	assert doc.status == "Completed" and all(item.processed for item in doc.items)
	assert (done.progress_done, done.progress_total, done.progress_message) == (5, 5, "Item e")
	mail = frappe.db.get_value("Email Queue", {"reference_doctype": RECORD, "reference_name": name}, "name")
	assert frappe.get_all("Email Queue Recipient", filters={"parent": mail}, pluck="recipient") == [
		world.OWNER
	]


def test_a_failing_item_marks_the_record_failed_and_keeps_no_partial_work(worker, clients, make_record):
	name = make_record(["a", "b", "fail", "d"])
	job = clients[world.OWNER].post(START, data={"name": name}, timeout=30).json()["message"]["name"]

	failed = wait_for_status(job, "Failed")
	doc = record(name)
	assert doc.status == "Failed" and not any(item.processed for item in doc.items)
	assert "item 3" in failed.error


def test_a_second_start_while_processing_is_refused_and_makes_no_second_job(worker, clients, make_record):
	name = make_record(["a", "b", "c"])
	first = clients[world.OWNER].post(START, data={"name": name}, timeout=30)
	second = clients[world.OWNER].post(START, data={"name": name}, timeout=30)

	assert first.status_code == 200 and second.status_code == 417
	wait_for_status(first.json()["message"]["name"], "Finished")
	assert frappe.db.count("Async Job", {"reference_name": name}) == 1


def test_another_user_cannot_process_the_owners_record(clients, make_record):
	name = make_record(["a"])
	response = clients[world.OTHER].post(START, data={"name": name}, timeout=30)
	assert response.status_code == 403
	assert record(name).status == "Draft"
