"""Retry and cancel by name, many at once (the Async Job list's bulk actions): every job that is not acted on is
named in the answer with its reason; a refusal changes nothing and shows no dialog of its own."""

import frappe
import pytest

import async_jobs
from async_jobs import api
from tests.support import world
from tests.support.ledger_rows import bulk_insert


def enqueue_as(user: str, **options) -> str:
	frappe.set_user(user)
	name = async_jobs.enqueue("async_jobs.testing.jobs.add", {"a": 1, "b": 2}, queue="short", **options).name
	frappe.set_user("Administrator")
	frappe.db.commit()
	return name


def end_as(name: str, status: str) -> None:
	frappe.db.set_value("Async Job", name, "status", status, update_modified=False)
	frappe.db.commit()


def test_a_bulk_retry_names_every_refused_job_with_its_reason(empty_queues):
	failed = enqueue_as(world.OWNER)
	end_as(failed, "Failed")
	finished_1, finished_2 = enqueue_as(world.OWNER), enqueue_as(world.OWNER)
	end_as(finished_1, "Finished")
	end_as(finished_2, "Finished")

	frappe.set_user(world.MANAGER)
	result = api.retry_jobs([finished_1, failed, finished_2, "no-such-job"])
	frappe.set_user("Administrator")
	frappe.db.commit()

	assert result["done"] == [failed]
	refused = {r["name"]: r for r in result["refused"]}
	assert list(refused) == [finished_1, finished_2, "no-such-job"]
	assert (
		"It is Finished: only failed" in refused[finished_1]["reason"]
		and refused[finished_1]["status"] == "Finished"
	)
	assert "not found" in refused["no-such-job"]["reason"]
	assert not frappe.local.message_log  # no dialog per refusal
	assert frappe.db.get_value("Async Job", failed, "status") == "Queued"
	assert frappe.db.get_value("Async Job", finished_1, "status") == "Finished"


def test_a_bulk_cancel_refuses_ended_jobs_and_other_users_jobs(empty_queues):
	mine, theirs, ended = enqueue_as(world.OWNER), enqueue_as(world.OTHER), enqueue_as(world.OWNER)
	end_as(ended, "Finished")

	frappe.set_user(world.OWNER)
	result = api.cancel_jobs(frappe.as_json([mine, theirs, ended]))
	frappe.set_user("Administrator")
	frappe.db.commit()

	assert result["done"] == [mine]
	reasons = {r["name"]: r["reason"] for r in result["refused"]}
	assert set(reasons) == {theirs, ended}
	assert "already" in reasons[ended] and reasons[theirs]
	assert frappe.db.get_value("Async Job", theirs, "status") == "Queued"
	assert frappe.db.get_value("Async Job", mine, "status") == "Cancelled"


@pytest.mark.parametrize("names", [None, "", [], ["x"] * 501, [1, 2]])
def test_bad_name_lists_are_a_validation_error(names):
	with pytest.raises(frappe.ValidationError):
		api.retry_jobs(names)


def test_a_bulk_retry_of_many_rows_answers_for_each(empty_queues):
	bulk_insert("aj-bulk-many", "Finished", 0, 30)
	names = frappe.get_all("Async Job", filters={"job_type": "aj-bulk-many"}, pluck="name")
	result = api.retry_jobs(names)
	assert not result["done"] and len(result["refused"]) == 30
	frappe.db.delete("Async Job", {"job_type": "aj-bulk-many"})
	frappe.db.commit()
