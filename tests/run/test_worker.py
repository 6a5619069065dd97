"""A job enqueued here is run by a real `bench worker` process, and its database effects follow Frappe's rules."""

import os
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import enqueue

from tests.support.harness import wait_for

pytestmark = pytest.mark.worker


def _todo(marker: str) -> str | None:
	frappe.db.rollback()  # a fresh snapshot: see what the worker committed
	return frappe.db.get_value("ToDo", {"description": ["like", f"{marker}%"]}, "description")


@pytest.fixture
def marker():
	marker = f"aj-test-{uuid.uuid4().hex}"
	yield marker
	frappe.db.delete("ToDo", {"description": ["like", f"{marker}%"]})
	frappe.db.commit()


def test_a_worker_process_runs_the_job_and_commits_its_effect(worker, marker, empty_queues):
	enqueue("async_jobs.testing.jobs.record_marker", queue="short", marker=marker)
	frappe.db.commit()

	description = wait_for(lambda: _todo(marker), timeout=60, message="the worker to run the job")

	pid = int(description.split("pid=")[1].split()[0])
	assert pid != os.getpid(), "the job ran in the test process, not in a worker"
	assert "user=Administrator" in description, "the job did not run as the enqueuing user"


def test_a_failing_job_is_rolled_back_and_logged(worker, marker, empty_queues):
	job = enqueue("async_jobs.testing.jobs.record_marker_then_fail", queue="short", marker=marker)
	frappe.db.commit()

	wait_for(lambda: job.get_status(refresh=True) == "failed", timeout=60, message="the job to fail")
	error_logs = frappe.get_all("Error Log", filters={"error": ["like", f"%deliberate failure {marker}%"]})

	assert _todo(marker) is None, "the failed job's write was committed"
	assert len(error_logs) == 1
