"""Cancelling and retrying a batch as a whole on a real worker: a large batch is cancelled partly in the request
and the rest by a job; retrying a cancelled batch resumes it instead of ending it Failed."""

import frappe
import pytest

import async_jobs
from async_jobs.engine.control.batch import CANCEL_IN_REQUEST, cancel_batch_jobs, requeue_failed_children
from tests.support import world
from tests.support.harness import BASE_URL, wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."


def statuses(batch: str) -> dict[str, int]:
	frappe.db.rollback()
	rows = frappe.db.sql(
		"SELECT status, COUNT(*) FROM `tabAsync Job` WHERE batch = %s GROUP BY status", batch
	)
	return dict(rows)


def owners_batch(children: int) -> str:
	frappe.set_user(world.OWNER)
	batch = async_jobs.enqueue_batch(F + "add", [{"a": i, "b": 1} for i in range(children)], queue="short")
	frappe.set_user("Administrator")
	frappe.db.commit()
	return batch.name


def test_a_large_batch_is_cancelled_partly_in_the_request_and_the_rest_by_a_job(worker_factory, clients):
	children = CANCEL_IN_REQUEST * 2 + 50
	name = owners_batch(children)

	response = clients[world.OWNER].post(
		f"{BASE_URL}/api/method/async_jobs.api.cancel_batch", data={"name": name}, timeout=60
	)
	assert response.status_code == 200, response.text
	assert statuses(name) == {"Cancelled": CANCEL_IN_REQUEST, "Queued": children - CANCEL_IN_REQUEST}
	worker_factory()
	wait_for(
		lambda: frappe.db.rollback() or frappe.db.get_value("Async Job Batch", name, "status") == "Cancelled",
		timeout=120,
		message="the batch to end cancelled",
	)
	assert statuses(name) == {"Cancelled": children}


def test_retrying_a_cancelled_batch_resumes_it(worker_factory):
	name = owners_batch(3)
	cancel_batch_jobs(name)
	assert frappe.db.get_value("Async Job Batch", name, "status") == "Cancelled"

	assert requeue_failed_children(name) == 3
	frappe.db.commit()
	worker_factory()
	wait_for(
		lambda: frappe.db.rollback() or frappe.db.get_value("Async Job Batch", name, "status") == "Finished",
		timeout=120,
		message="the batch to finish",
	)
	assert statuses(name) == {"Finished": 3}
	assert not frappe.db.exists(
		"Notification Log", {"document_name": name, "document_type": "Async Job Batch"}
	)
