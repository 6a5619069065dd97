"""Tracked jobs run by a real `bench worker`: each lifecycle case ends in the right ledger state."""

import hashlib
import json
import time
import uuid

import frappe
import pytest

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.transport.rq_jobs import full_rq_job_id
from tests.support import world
from tests.support.checks import row, todo_count, wait_for_status
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."


@pytest.fixture
def marker():
	marker = f"aj-exec-{uuid.uuid4().hex}"
	yield marker
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"description": ["like", f"{marker}%"]})
	frappe.db.commit()


def enqueue(method, kwargs=None, **options):
	job = async_jobs.enqueue(F + method, kwargs, **options)
	frappe.db.commit()
	return job.name


def test_a_successful_job_ends_finished_with_result_timing_worker_and_one_attempt(worker):
	name = enqueue("add", {"a": 2, "b": 3}, queue="short")
	job = wait_for_status(name, "Finished")

	assert json.loads(job.result) == 5
	assert job.attempts == 1
	assert job.worker and job.rq_job_id == full_rq_job_id(name)
	assert job.started_at >= job.queued_at and job.ended_at >= job.started_at
	assert job.wait_seconds >= 0 and job.run_seconds >= 0 and job.progress_percent == 100
	assert [a["status"] for a in json.loads(job.attempt_log)] == ["Finished"]


def test_the_job_runs_as_the_enqueuing_user(worker):
	frappe.set_user(world.OWNER)
	name = enqueue("whoami", queue="short")
	frappe.set_user("Administrator")

	job = wait_for_status(name, "Finished")
	assert json.loads(job.result)["user"] == world.OWNER
	assert job.owner == world.OWNER


def test_a_raising_job_ends_failed_with_traceback_and_error_log_and_its_writes_rolled_back(worker, marker):
	name = enqueue("record_marker_then_fail", {"marker": marker}, queue="short")
	job = wait_for_status(name, "Failed")

	assert f"deliberate failure {marker}" in job.error
	assert "RuntimeError" in job.traceback
	assert frappe.db.get_value("Error Log", job.error_log, "reference_name") == name
	assert todo_count(marker) == 0


def notified(name: str) -> bool:
	frappe.db.rollback()
	return bool(frappe.db.exists("Notification Log", {"document_name": name, "for_user": world.OWNER}))


def test_the_owner_is_notified_of_failures_by_default_and_of_successes_when_asked(worker):
	frappe.set_user(world.OWNER)
	failing = enqueue("record_marker_then_fail", {"marker": "aj-notify"}, queue="short")
	quiet = enqueue("add", {"a": 1, "b": 1}, queue="short")
	loud = enqueue("add", {"a": 1, "b": 1}, queue="short", notify="Always")
	frappe.set_user("Administrator")

	wait_for(lambda: notified(failing), message="the failure notification")
	wait_for(lambda: notified(loud), message="the success notification")
	assert row(quiet).status == "Finished" and not notified(quiet)


def test_email_on_finish_queues_a_mail_to_the_owner(worker):
	frappe.set_user(world.OWNER)
	job = async_jobs.enqueue("aj-test-add", {"a": 1, "b": 2})
	frappe.db.commit()
	frappe.set_user("Administrator")
	wait_for_status(job.name, "Finished")

	mail = wait_for(
		lambda: (
			frappe.db.rollback()
			or frappe.db.get_value(
				"Email Queue", {"reference_name": job.name}, ["name", "message"], as_dict=True
			)
		),
		message="the finish mail",
	)
	recipients = frappe.get_all("Email Queue Recipient", filters={"parent": mail.name}, pluck="recipient")
	assert recipients == [world.OWNER]


def test_progress_is_persisted_while_the_job_runs(worker):
	name = enqueue("steps", {"n": 30, "delay": 0.1}, queue="short")
	seen = set()

	def watch():
		job = row(name)
		if 0 < job.progress_done < 30:
			seen.add(job.progress_done)
		return job.status == "Finished" and job

	job = wait_for(watch, timeout=60, interval=0.05, message="the job to finish")
	assert len(seen) >= 2, f"saw intermediate progress {sorted(seen)}"
	assert (job.progress_done, job.progress_total, job.progress_percent) == (30, 30, 100)
	assert job.progress_message == "step 30 of 30"


def test_a_queued_job_cancelled_before_a_worker_takes_it_never_runs(worker, marker):
	blocker = enqueue("sleep_quietly", {"seconds": 3}, queue="short")
	wait_for_status(blocker, "Started")
	name = enqueue("record_marker", {"marker": marker}, queue="short")

	assert cancel_job(name) == "Cancelled"
	frappe.db.commit()
	wait_for_status(blocker, "Finished")
	time.sleep(1)  # give the worker the chance it must not take

	job = row(name)
	assert job.status == "Cancelled" and job.started_at is None and job.attempts == 0
	assert todo_count(marker) == 0
	assert frappe.get_value("Async Job", name, "error").startswith("Cancelled by")


def test_a_running_job_cancelled_stops_at_its_next_progress_call_and_rolls_back(worker, marker):
	name = enqueue("steps", {"n": 200, "delay": 0.05, "marker": marker}, queue="short")
	wait_for(lambda: row(name).progress_done > 0, message="progress")

	assert cancel_job(name) == "Started"
	frappe.db.commit()
	job = wait_for_status(name, "Cancelled", timeout=10)

	assert job.progress_done < 200
	assert "Hard-stopped" not in (job.error or "")
	assert todo_count(marker) == 0, "the cancelled job's write was committed"


def test_a_running_job_that_ignores_cancel_is_hard_stopped_after_the_grace_period(worker, marker):
	name = enqueue("sleep_quietly", {"seconds": 60, "marker": marker}, queue="short")
	wait_for_status(name, "Started")
	time.sleep(0.5)

	cancel_job(name)
	frappe.db.commit()
	requested = time.monotonic()
	job = wait_for_status(name, "Cancelled", timeout=world.CANCEL_GRACE + 10)

	assert time.monotonic() - requested >= world.CANCEL_GRACE - 0.5
	assert "Hard-stopped" in job.error
	assert todo_count(marker) == 0
	assert worker.alive(), "the hard stop must kill the work horse, not the worker"
	after = enqueue("add", {"a": 1, "b": 1}, queue="short")
	wait_for_status(after, "Finished")


def test_a_job_over_its_timeout_ends_timed_out(worker):
	name = enqueue("sleep_quietly", {"seconds": 30}, queue="short", timeout=2)
	job = wait_for_status(name, "Timed Out", timeout=30)

	assert "JobTimeoutException" in job.error
	assert job.run_seconds < 10
	assert frappe.db.exists("Error Log", job.error_log)


def test_the_job_gets_real_arguments_while_the_ledger_keeps_them_redacted(worker):
	name = enqueue(
		"fingerprint_secrets", {"password": "hunter2", "nested": {"api_key": "k-123"}}, queue="short"
	)
	job = wait_for_status(name, "Finished")

	assert "hunter2" not in job.arguments and "k-123" not in job.arguments
	assert json.loads(job.arguments) == {"nested": {"api_key": "********"}, "password": "********"}
	assert json.loads(job.result)["sha1_of_the_first"] == hashlib.sha1(b"hunter2").hexdigest()


def test_a_failure_keeps_secrets_out_of_the_error_the_traceback_and_the_error_log(worker):
	password, user_pass = "hunter2-pw", "s3cr3t-url"
	name = enqueue(
		"fail_with_secrets",
		{"password": password, "url": f"https://bob:{user_pass}@example.com/api"},
		queue="short",
	)
	job = wait_for_status(name, "Failed")
	error_log = frappe.get_doc("Error Log", job.error_log)

	texts = {
		"arguments": job.arguments,
		"error": job.error,
		"traceback": job.traceback,
		"log": error_log.error,
	}
	for secret in (password, user_pass, password[::-1]):
		assert not [field for field, text in texts.items() if secret in text], (secret, texts)
	assert "ConnectionError: cannot reach https://bob:********@example.com/api" in job.error
	assert "fail_with_secrets" in error_log.error  # the traceback, without the frames' locals


def test_a_result_keeps_secrets_out_of_the_ledger(worker):
	token = "tok-9f8e7d"
	name = enqueue("return_secrets", {"token": token, "url": f"https://u:{token}@h/x"}, queue="short")
	job = wait_for_status(name, "Finished")

	assert token not in job.result and token not in job.arguments
	assert json.loads(job.result)["url"] == "https://u:********@h/x"
