"""enqueue(): the ledger row and the RQ job stay consistent; bad input is refused; dedup is atomic; delays hold."""

import subprocess
import sys
import time
import uuid

import frappe
import pytest
from frappe.utils import get_datetime
from frappe.utils.background_jobs import get_redis_conn
from rq.job import Job

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.submit.dedup import DuplicateJobError
from async_jobs.engine.submit.resolve import MAX_ARGUMENT_BYTES
from async_jobs.engine.transport import rq_jobs
from tests.support import race
from tests.support.checks import row, todo_count, wait_for_status
from tests.support.harness import SITE, SITES

F = "async_jobs.testing.jobs."


def rq_job_exists(name: str) -> bool:
	return Job.exists(rq_jobs.full_rq_job_id(name), connection=get_redis_conn())


def ledger_count() -> int:
	frappe.db.rollback()
	return frappe.db.count("Async Job")


def test_a_rolled_back_request_leaves_neither_a_row_nor_an_rq_job():
	job = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short")
	frappe.db.rollback()

	assert not frappe.db.exists("Async Job", job.name)
	assert not rq_job_exists(job.name)


def test_a_committed_enqueue_has_both_with_matching_ids():
	job = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short")
	frappe.db.commit()
	try:
		assert row(job.name).status == "Queued"
		rq_job = Job.fetch(rq_jobs.full_rq_job_id(job.name), connection=get_redis_conn())
		assert rq_job.kwargs["kwargs"]["async_job"] == job.name
		assert rq_job.origin.endswith(":short") and rq_job.timeout == 300
	finally:
		cancel_job(job.name)
		frappe.db.commit()


def test_after_commit_false_writes_the_row_and_pushes_now_whatever_the_caller_does():
	job = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short", after_commit=False)
	assert rq_job_exists(job.name)
	frappe.db.rollback()
	try:
		assert row(job.name).status == "Queued"
	finally:
		cancel_job(job.name)
		frappe.db.commit()


BAD_CALLS = {
	"unknown function": ((F + "no_such_function",), {}),
	"function of no installed app": (("json.dumps",), {}),
	"unknown job type": ((F + "add",), {"job_type": "no-such-type"}),
	"arguments not a dict": ((F + "add", [1, 2]), {}),
	"arguments not storable": ((F + "add", {"a": lambda: 1}), {}),
	"arguments too large": ((F + "add", {"a": "x" * (MAX_ARGUMENT_BYTES + 1)}), {}),
	"unknown queue": ((F + "add",), {"queue": "nope"}),
	"negative timeout": ((F + "add",), {"timeout": -5}),
	"timeout not a number": ((F + "add",), {"timeout": "soon"}),
	"negative delay": ((F + "add",), {"delay": -1}),
	"both delay and run_at": ((F + "add",), {"delay": 5, "run_at": "2030-01-01 00:00:00"}),
	"run_at not a date": ((F + "add",), {"run_at": "tomorrow-ish"}),
	"unknown dedup mode": ((F + "add",), {"dedup_key": "k", "dedup_mode": "forever"}),
	"unknown on_duplicate": ((F + "add",), {"on_duplicate": "ignore"}),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_input_is_a_clear_frappe_error_and_leaves_no_row(case):
	args, options = BAD_CALLS[case]
	before = ledger_count()
	with pytest.raises((frappe.ValidationError, frappe.DoesNotExistError)) as error:
		async_jobs.enqueue(*args, **options)
	frappe.db.commit()
	assert str(error.value), "the error has no message"
	assert ledger_count() == before


def test_a_second_enqueue_with_the_same_dedup_key_returns_the_first_job_or_raises():
	key = uuid.uuid4().hex
	first = async_jobs.enqueue(F + "add", {"a": 1, "b": 1}, queue="short", dedup_key=key)
	second = async_jobs.enqueue(F + "add", {"a": 9, "b": 9}, queue="short", dedup_key=key)
	assert not frappe.local.message_log, "the expected clash leaked a message to the user"
	with pytest.raises(DuplicateJobError):
		async_jobs.enqueue(F + "add", {}, queue="short", dedup_key=key, on_duplicate="raise")
	frappe.db.commit()
	try:
		assert second.name == first.name
		assert frappe.db.count("Async Job", {"dedup_key": key}) == 1
	finally:
		cancel_job(first.name)
		frappe.db.commit()


def test_a_cancelled_job_releases_its_dedup_key():
	key = uuid.uuid4().hex
	first = async_jobs.enqueue(F + "add", {}, queue="short", dedup_key=key)
	frappe.db.commit()
	cancel_job(first.name)
	frappe.db.commit()
	second = async_jobs.enqueue(F + "add", {}, queue="short", dedup_key=key)
	frappe.db.commit()
	cancel_job(second.name)
	frappe.db.commit()
	assert second.name != first.name


@pytest.mark.worker
def test_until_started_frees_the_key_when_the_job_starts_until_finished_when_it_ends(worker):
	"""Keys are per job type (here: per function), as in Sidekiq's unique jobs."""
	started_key, finished_key = uuid.uuid4().hex, uuid.uuid4().hex
	a = async_jobs.enqueue(
		F + "steps", {"n": 20, "delay": 0.1}, queue="short", dedup_key=started_key, dedup_mode="until_started"
	)
	b = async_jobs.enqueue(F + "steps", {"n": 20, "delay": 0.1}, queue="short", dedup_key=finished_key)
	frappe.db.commit()
	wait_for_status(a.name, "Started")
	wait_for_status(b.name, "Started")

	quick = {"n": 1, "delay": 0}
	again_a = async_jobs.enqueue(
		F + "steps", quick, queue="short", dedup_key=started_key, dedup_mode="until_started"
	)
	again_b = async_jobs.enqueue(F + "steps", quick, queue="short", dedup_key=finished_key)
	frappe.db.commit()
	assert again_a.name != a.name, "until_started still held the key after the start"
	assert again_b.name == b.name, "until_finished let a duplicate in while the job ran"

	wait_for_status(b.name, "Finished")
	after_b = async_jobs.enqueue(F + "steps", quick, queue="short", dedup_key=finished_key)
	frappe.db.commit()
	assert after_b.name != b.name
	for name in (again_a.name, after_b.name):
		wait_for_status(name, "Finished")


def test_dedup_is_atomic_when_six_processes_enqueue_the_same_key_at_once():
	key = uuid.uuid4().hex
	start_at = time.time() + 8  # every contender is connected and spinning by then
	contenders = [
		subprocess.Popen(
			[sys.executable, race.__file__, SITE, key, str(start_at)],
			cwd=SITES,
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
			text=True,
		)
		for _ in range(6)
	]
	results = [p.communicate(timeout=120) for p in contenders]
	assert all(p.returncode == 0 for p in contenders), [err[-2000:] for _, err in results]
	lines = [out.split() for out, _ in results]
	assert all(state == "on-time" for _, state in lines), "a contender was late: the race did not happen"

	names = {name for name, _ in lines}
	frappe.db.rollback()
	assert len(names) == 1
	assert frappe.db.count("Async Job", {"dedup_key": key}) == 1
	cancel_job(names.pop())
	frappe.db.commit()


@pytest.mark.worker
def test_a_delayed_job_waits_scheduled_then_runs_within_five_seconds_of_its_time(worker, stager):
	job = async_jobs.enqueue(F + "add", {"a": 1, "b": 1}, queue="short", delay=4)
	frappe.db.commit()
	run_at = get_datetime(job.run_at)
	assert row(job.name).status == "Scheduled"

	done = wait_for_status(job.name, "Finished", timeout=30)
	lateness = (done.started_at - run_at).total_seconds()
	assert 0 <= lateness <= 5, f"started {lateness:+.2f} s from its time"


@pytest.mark.worker
def test_a_cancelled_delayed_job_never_runs(worker, stager):
	marker = f"aj-delayed-{uuid.uuid4().hex}"
	job = async_jobs.enqueue(F + "record_marker", {"marker": marker}, queue="short", delay=2)
	frappe.db.commit()
	assert cancel_job(job.name) == "Cancelled"
	frappe.db.commit()

	time.sleep(4)
	assert row(job.name).status == "Cancelled"
	assert todo_count(marker) == 0
	assert not rq_job_exists(job.name)


@pytest.mark.worker
def test_at_front_jumps_the_queue(worker):
	blocker = async_jobs.enqueue(F + "sleep_quietly", {"seconds": 2}, queue="short")
	frappe.db.commit()
	wait_for_status(blocker.name, "Started")
	normal = async_jobs.enqueue(F + "add", {"a": 1, "b": 1}, queue="short")
	urgent = async_jobs.enqueue(F + "add", {"a": 2, "b": 2}, queue="short", at_front=True)
	frappe.db.commit()

	first, second = wait_for_status(urgent.name, "Finished"), wait_for_status(normal.name, "Finished")
	assert first.started_at < second.started_at
