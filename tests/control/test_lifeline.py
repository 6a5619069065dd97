"""Execution reliability with real workers: retries with backoff, dead jobs, snoozes, retries by hand, and the
lifeline — killed work horses, a killed worker, a job SIGALRM cannot stop, and Redis losing its queues."""

import json
import os
import signal
import time
import uuid

import frappe
import pytest
import redis

import async_jobs
from async_jobs.engine.transport.delayed import DELAYED_KEY
from tests.support import world
from tests.support.checks import row, wait_for_status
from tests.support.harness import BASE_URL, COMMON_CONFIG, wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."
FAST_RETRY = {"max_attempts": 3, "base": 1, "factor": 2, "jitter": 0}


@pytest.fixture
def marker():
	marker = uuid.uuid4().hex
	yield marker
	frappe.cache.delete(f"aj-attempts:{marker}", f"aj-pid:{marker}")


def enqueue(method, kwargs=None, **options):
	job = async_jobs.enqueue(F + method, kwargs, queue="short", **options)
	frappe.db.commit()
	return job.name


def attempts_log(job) -> list[dict]:
	return json.loads(job.attempt_log or "[]")


def horse_pid(marker) -> int:
	return int(
		wait_for(lambda: frappe.cache.get(f"aj-pid:{marker}"), timeout=60, message="the work horse pid")
	)


def test_a_flaky_job_is_retried_with_growing_backoff_until_it_succeeds(worker_factory, stager, marker):
	worker_factory()
	name = enqueue("flaky", {"marker": marker, "failures": 2}, retry=FAST_RETRY)
	job = wait_for_status(name, "Finished", timeout=60)

	log = attempts_log(job)
	assert [a["status"] for a in log] == ["Retrying", "Retrying", "Finished"]
	assert job.attempts == 3 and json.loads(job.result) == 3
	starts = [frappe.utils.get_datetime(a["started_at"]) for a in log]
	ends = [frappe.utils.get_datetime(a["ended_at"]) for a in log]
	assert (starts[1] - ends[0]).total_seconds() >= 1 - 0.05  # base
	assert (starts[2] - ends[1]).total_seconds() >= 2 - 0.05  # base · factor


def test_a_job_that_keeps_failing_ends_dead_with_every_attempts_error(worker_factory, stager, marker):
	worker_factory()
	name = enqueue("flaky", {"marker": marker, "failures": 99}, retry={**FAST_RETRY, "max_attempts": 2})
	job = wait_for_status(name, "Dead", timeout=60)

	log = attempts_log(job)
	assert [a["status"] for a in log] == ["Retrying", "Dead"]
	assert [a["error"] for a in log] == [
		"ConnectionError: flaky failure 1 of 99",
		"ConnectionError: flaky failure 2 of 99",
	]
	wait_for(lambda: frappe.db.rollback() or frappe.db.exists("Notification Log", {"document_name": name}))


def test_an_error_that_cannot_be_fixed_by_retrying_fails_at_once(worker_factory, marker):
	worker_factory()
	name = enqueue("invalid", {"marker": marker}, retry=FAST_RETRY)
	job = wait_for_status(name, "Failed")

	assert job.attempts == 1 and "ValidationError" in job.error
	assert int(frappe.cache.get(f"aj-attempts:{marker}")) == 1


def test_a_snoozed_job_runs_again_later_without_counting_a_failure(worker_factory, stager, marker):
	worker_factory()
	name = enqueue("snooze_once", {"marker": marker, "seconds": 1})
	job = wait_for_status(name, "Finished", timeout=30)

	assert [a["status"] for a in attempts_log(job)] == ["Scheduled", "Finished"]
	assert job.attempts == 1 and json.loads(job.result) == 2


def test_the_owner_retries_a_dead_job_by_hand_and_it_runs_again(worker_factory, stager, clients, marker):
	worker_factory()
	frappe.set_user(world.OWNER)
	name = async_jobs.enqueue("aj-test-flaky", {"marker": marker, "failures": 1}).name  # no retries
	frappe.db.commit()
	frappe.set_user("Administrator")
	wait_for_status(name, "Failed")

	refused = clients[world.OTHER].post(
		f"{BASE_URL}/api/method/async_jobs.api.retry", data={"name": name}, timeout=30
	)
	response = clients[world.OWNER].post(
		f"{BASE_URL}/api/method/async_jobs.api.retry", data={"name": name}, timeout=30
	)
	assert refused.status_code == 403
	assert response.status_code == 200, response.text
	job = wait_for_status(name, "Finished")
	assert job.attempts == 2 and job.max_attempts == 2
	again = clients[world.OWNER].post(
		f"{BASE_URL}/api/method/async_jobs.api.retry", data={"name": name}, timeout=30
	)
	assert again.status_code == 417, "a finished job was retried"


def test_retry_matching_retries_only_the_callers_own_failed_jobs(worker_factory, stager, clients, marker):
	worker_factory()
	mine, theirs = [], []
	for user, names in ((world.OWNER, mine), (world.OTHER, theirs)):
		frappe.set_user(user)
		names.append(async_jobs.enqueue("aj-test-flaky", {"marker": f"{marker}-{user}", "failures": 1}).name)
		frappe.db.commit()
	frappe.set_user("Administrator")
	for name in mine + theirs:
		wait_for_status(name, "Failed")

	response = clients[world.OWNER].post(
		f"{BASE_URL}/api/method/async_jobs.api.retry_matching", data={"status": "Failed"}, timeout=30
	)
	assert response.status_code == 200, response.text
	assert set(mine) <= set(response.json()["message"]) and not set(theirs) & set(response.json()["message"])
	wait_for_status(mine[0], "Finished")
	assert row(theirs[0]).status == "Failed"
	for user in (world.OWNER, world.OTHER):
		frappe.cache.delete(f"aj-attempts:{marker}-{user}")


def test_a_killed_work_horse_is_noticed_and_the_job_retried(worker_factory, stager, marker):
	worker = worker_factory()
	name = enqueue(
		"publish_pid_then_sleep", {"marker": marker, "seconds": 60}, retry={**FAST_RETRY, "max_attempts": 2}
	)
	wait_for_status(name, "Started")
	os.kill(horse_pid(marker), signal.SIGKILL)
	killed = time.monotonic()

	retrying = wait_for(
		lambda: (r := row(name)).status != "Started" and r, timeout=30, message="the lifeline"
	)
	detected = time.monotonic() - killed
	assert retrying.status in ("Retrying", "Started", "Finished"), retrying.status
	assert "Work horse killed" in attempts_log(wait_for_status(name, "Finished", timeout=30))[0]["error"]
	assert worker.alive()
	print(f"\nkilled work horse detected after {detected:.1f} s")
	assert detected < 10


def test_a_killed_worker_is_noticed_by_its_missing_heartbeat(worker_factory, stager, marker):
	doomed = worker_factory()
	name = enqueue(
		"publish_pid_then_sleep", {"marker": marker, "seconds": 120}, retry={**FAST_RETRY, "max_attempts": 2}
	)
	wait_for_status(name, "Started")
	horse = horse_pid(marker)
	doomed.signal(signal.SIGKILL)  # the worker (RQ puts its work horse in a session of its own: kill it too)
	os.kill(horse, signal.SIGKILL)
	killed = time.monotonic()

	lost = wait_for(lambda: (r := row(name)).status != "Started" and r, timeout=60, message="the lifeline")
	detected = time.monotonic() - killed
	assert "no heartbeat" in attempts_log(lost)[0]["error"]
	worker_factory()
	wait_for_status(name, "Finished", timeout=30)
	print(f"\nkilled worker detected after {detected:.1f} s (stale after {world.LIFELINE_STALE} s)")
	assert detected <= world.LIFELINE_STALE + 5


def test_a_job_that_ignores_its_timeout_is_killed_and_ends_timed_out(worker_factory, stager):
	worker = worker_factory()
	name = enqueue("ignore_timeout_and_sleep", {"seconds": 120}, timeout=2)
	job = wait_for_status(name, "Timed Out", timeout=60)

	assert "Killed after its timeout of 2 s" in job.error
	assert job.run_seconds < 40
	assert worker.alive()


def test_jobs_lost_with_the_queue_redis_are_enqueued_again_once(worker_factory, stager):
	names = [enqueue("add", {"a": i, "b": i}) for i in range(3)]
	unrecoverable = enqueue("add", {"a": 0, "b": 0})
	frappe.db.set_value("Async Job", unrecoverable, "encrypted_arguments", None, update_modified=False)
	frappe.db.commit()

	redis.Redis.from_url(COMMON_CONFIG["redis_queue"]).flushall()
	worker_factory()
	for name in names:
		job = wait_for_status(name, "Finished", timeout=60)
		assert job.recovered and json.loads(job.result) == 2 * names.index(name)
	lost = wait_for_status(unrecoverable, "Lost", timeout=30)
	assert "no stored arguments" in lost.error
	assert not redis.Redis.from_url(COMMON_CONFIG["redis_queue"]).zcard(DELAYED_KEY)


def test_a_job_whose_work_horse_died_before_recording_its_start_is_enqueued_again(worker_factory):
	from datetime import datetime, timedelta, timezone

	from frappe.utils.background_jobs import get_queue, get_redis_conn
	from rq.job import Job

	from async_jobs.engine.control import lifeline

	name = enqueue("add", {"a": 20, "b": 22})
	# What RQ leaves when a worker and its horse are killed between RQ starting the job and our first step:
	# the RQ job "started" (long ago), out of the queue; the ledger row still Queued.
	job = Job.fetch(row(name).rq_job_id, connection=get_redis_conn())
	get_queue("short").remove(job.id)
	job.set_status("started")
	job.started_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(
		seconds=world.LIFELINE_STALE + 5
	)
	job.save()
	frappe.db.sql("UPDATE `tabAsync Job` SET modified = modified - INTERVAL 1 MINUTE WHERE name = %s", name)
	frappe.db.commit()

	assert lifeline.reconcile()["recovered"] == 1
	frappe.db.commit()
	worker_factory()
	finished = wait_for_status(name, "Finished", timeout=60)
	assert json.loads(finished.result) == 42 and finished.recovered == 1


def test_a_job_queued_before_the_engine_moved_is_enqueued_again_under_the_new_path(
	worker_factory, monkeypatch
):
	"""An RQ job queued by an older version names the executor by its old path: the worker cannot import it, RQ
	fails it, and the lifeline enqueues the job again, which then runs."""
	from frappe.utils.background_jobs import get_redis_conn
	from rq.job import Job

	from async_jobs.engine.control import lifeline
	from async_jobs.engine.transport import rq_jobs

	with monkeypatch.context() as patched:
		patched.setattr(rq_jobs, "EXECUTOR", "async_jobs.engine.executor.run")  # before the move
		name = enqueue("add", {"a": 20, "b": 22})
	rq_id = row(name).rq_job_id
	worker_factory()
	wait_for(
		lambda: Job.fetch(rq_id, connection=get_redis_conn()).get_status() == "failed",
		timeout=60,
		message="RQ to fail the job with the old path",
	)
	assert row(name).status == "Queued"
	frappe.db.sql("UPDATE `tabAsync Job` SET modified = modified - INTERVAL 1 MINUTE WHERE name = %s", name)
	frappe.db.commit()
	lifeline.reconcile()  # (a stager left running by an earlier test may get there first)
	frappe.db.commit()
	finished = wait_for_status(name, "Finished", timeout=60)
	assert json.loads(finished.result) == 42 and finished.recovered == 1


def test_a_queued_job_a_worker_popped_and_dropped_is_enqueued_again_but_not_one_pushed_a_moment_ago(
	worker_factory,
):
	from datetime import datetime, timedelta, timezone

	from frappe.utils.background_jobs import get_queue, get_redis_conn
	from rq.job import Job

	from async_jobs.engine.control import lifeline

	old, fresh = enqueue("add", {"a": 1, "b": 1}), enqueue("add", {"a": 2, "b": 2})
	# What a worker killed between popping a job and starting it leaves: the RQ job "queued", out of its queue.
	for name, age in ((old, world.LIFELINE_STALE + 5), (fresh, 0)):
		job = Job.fetch(row(name).rq_job_id, connection=get_redis_conn())
		get_queue("short").remove(job.id)
		job.enqueued_at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=age)
		job.save()
	frappe.db.sql(
		"UPDATE `tabAsync Job` SET modified = modified - INTERVAL 1 MINUTE WHERE name IN %s", ((old, fresh),)
	)
	frappe.db.commit()

	assert (
		lifeline.reconcile()["recovered"] == 1
	)  # the old one only: the fresh one may be in a live worker's hands
	frappe.db.commit()
	assert row(fresh).recovered == 0
	worker_factory()
	finished = wait_for_status(old, "Finished", timeout=60)
	assert json.loads(finished.result) == 2 and finished.recovered == 1
	Job.fetch(row(fresh).rq_job_id, connection=get_redis_conn()).delete()
	frappe.db.delete("Async Job", fresh)
	frappe.db.commit()
