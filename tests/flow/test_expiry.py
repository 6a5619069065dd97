"""Expiry: a job not started by its expires_at ends Expired — checked by the worker as it takes the job and by the
stager's lifeline pass for jobs no worker takes — and never runs late."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import now_datetime

import async_jobs
from async_jobs.engine.control import lifeline
from tests.support.checks import row, todo_count, wait_for_status
from tests.support.harness import start_worker, wait_for

F = "async_jobs.testing.jobs."


def _past(name: str) -> bool:
	return now_datetime() > row(name).expires_at


@pytest.mark.worker
def test_a_job_taken_after_its_expiry_ends_expired_without_running(empty_queues):
	marker = f"aj-expire-{frappe.generate_hash(length=8)}"
	name = async_jobs.enqueue(F + "record_marker", {"marker": marker}, queue="short", expires_in=1).name
	frappe.db.commit()
	wait_for(lambda: _past(name), timeout=10, message="the expiry to pass")
	worker = start_worker("short")
	try:
		job = wait_for_status(name, "Expired")
	finally:
		worker.stop()
	assert job.started_at is None and job.attempts == 0 and "Expired: not started by" in job.error
	assert todo_count(marker) == 0, "an expired job ran"


def test_the_lifeline_pass_expires_waiting_and_held_jobs_no_worker_takes():
	waiting = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="long", expires_in=1).name
	later = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="long", expires_in=3600).name
	frappe.db.commit()
	wait_for(lambda: _past(waiting), timeout=10, message="the expiry to pass")
	counts = lifeline.reconcile(recover_waiting=False)
	frappe.db.commit()
	assert counts["expired"] >= 1
	assert row(waiting).status == "Expired" and row(later).status == "Queued"
	async_jobs.cancel(later)
	frappe.db.commit()


def test_an_expired_job_retried_by_hand_runs_without_its_old_expiry():
	name = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="long", expires_in=1).name
	frappe.db.commit()
	wait_for(lambda: _past(name), timeout=10, message="the expiry to pass")
	lifeline.reconcile(recover_waiting=False)
	frappe.db.commit()
	assert row(name).status == "Expired"
	from async_jobs.engine.control.requeue import requeue_by_hand

	requeue_by_hand(name)
	frappe.db.commit()
	job = row(name)
	assert job.status == "Queued" and job.expires_at is None
	async_jobs.cancel(name)
	frappe.db.commit()


def test_expires_at_must_come_after_run_at():
	with pytest.raises(frappe.ValidationError, match="expires_at"):
		async_jobs.enqueue(
			F + "add",
			{"a": 1, "b": 2},
			delay=600,
			expires_at=now_datetime() + timedelta(seconds=60),
		)
	frappe.db.rollback()
