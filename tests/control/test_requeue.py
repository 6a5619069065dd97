"""Retry by hand on real workers: a fresh round of the policy's attempts, and a job cancelled while running runs
again instead of being cancelled at its first progress()."""

import json
import uuid

import frappe
import pytest

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.control.requeue import requeue_by_hand
from tests.support.checks import wait_for_status
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."


@pytest.fixture
def marker():
	marker = uuid.uuid4().hex
	yield marker
	frappe.cache.delete(f"aj-attempts:{marker}")


def test_a_retry_by_hand_gives_a_fresh_round_of_the_policys_attempts(worker_factory, stager, marker):
	worker_factory()
	retry = {"max_attempts": 2, "base": 0.5, "jitter": 0}
	name = async_jobs.enqueue(F + "flaky", {"marker": marker, "failures": 3}, queue="short", retry=retry).name
	frappe.db.commit()
	wait_for_status(name, "Dead")

	requeue_by_hand(name)
	frappe.db.commit()
	job = wait_for_status(name, "Finished", "Dead")
	assert [a["status"] for a in json.loads(job.attempt_log)] == ["Retrying", "Dead", "Retrying", "Finished"]
	assert job.attempts == 4 and json.loads(job.result) == 4


def test_a_job_cancelled_while_running_runs_to_its_end_when_retried(worker_factory):
	worker_factory()
	name = async_jobs.enqueue(F + "steps", {"n": 10, "delay": 0.2}, queue="short").name
	frappe.db.commit()
	wait_for(lambda: frappe.db.rollback() or frappe.db.get_value("Async Job", name, "progress_done"))
	cancel_job(name)
	frappe.db.commit()
	wait_for_status(name, "Cancelled")

	requeue_by_hand(name)
	frappe.db.commit()
	job = wait_for_status(name, "Finished", "Cancelled")
	assert job.status == "Finished" and json.loads(job.result) == 10
