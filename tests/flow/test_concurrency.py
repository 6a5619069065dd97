"""Concurrency limits on real workers: at most N jobs of a key run at once across workers, a job over the limit
waits Held in the ledger (no worker holds it) and starts when a slot frees, other keys are not held up, and the
Job Monitor says why a held job waits."""

import itertools

import frappe
import pytest
from frappe.utils import now_datetime

import async_jobs
from async_jobs.engine.views.dashboard import explain
from tests.support.checks import row
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker

F = "async_jobs.testing.jobs."


def finished(names: list[str]) -> list[frappe._dict]:
	frappe.db.rollback()
	rows = frappe.get_all(
		"Async Job",
		filters={"name": ["in", names]},
		fields=["name", "status", "started_at", "ended_at", "worker", "attempts", "concurrency_key"],
	)
	return rows if len(rows) == len(names) and all(r.status == "Finished" for r in rows) else []


def test_thirty_jobs_of_one_key_under_a_limit_of_one_never_overlap_and_another_key_runs_meanwhile(
	worker_factory, empty_queues
):
	for _ in range(3):
		worker_factory("short")
	acme = [
		async_jobs.enqueue(
			F + "limited",
			{"company": "ACME", "seconds": 0.3},
			queue="short",
			concurrency_limit=1,
			concurrency_key="company",
		).name
		for _ in range(30)
	]
	beta = [
		async_jobs.enqueue(
			F + "limited",
			{"company": "BETA", "seconds": 0.3},
			queue="short",
			concurrency_limit=1,
			concurrency_key="company",
		).name
		for _ in range(2)
	]
	frappe.db.commit()

	def held_and_explained():
		frappe.db.rollback()
		rows = frappe.get_all(
			"Async Job",
			filters={"name": ["in", acme], "status": "Held"},
			fields=[
				"name",
				"status",
				"queue",
				"run_at",
				"rq_job_id",
				"queued_at",
				"creation",
				"job_type",
				"held_by",
				"concurrency_limit",
				"concurrency_key",
				"rate_limit",
				"rate_key",
			],
		)
		whys = [r.why for r in explain(rows, {}, now_datetime())]
		return next((w for w in whys if "(1 of 1 running)" in w), None)

	why = wait_for(held_and_explained, timeout=120, message="a held ACME job explained while one runs")
	assert why == "Held by limit company=ACME (1 of 1 running)"

	rows = wait_for(lambda: finished(acme + beta), timeout=300, interval=0.5, message="all 32 jobs to finish")
	runs = sorted((r for r in rows if r.name in acme), key=lambda r: r.started_at)
	assert len(runs) == 30 and {r.concurrency_key for r in runs} == {"company=ACME"}
	for earlier, later in itertools.pairwise(runs):
		assert later.started_at >= earlier.ended_at, f"{earlier.name} and {later.name} ran at once"
	assert len({r.worker for r in runs}) > 1, "the key's jobs all ran on one worker"
	# BETA's jobs did not wait behind ACME's chain: both ended before the 15th ACME job started.
	beta_ends = [r.ended_at for r in rows if r.name in beta]
	assert max(beta_ends) < runs[14].started_at, (beta_ends, runs[14].started_at)
	# ACME jobs were held in the ledger (not spinning in a worker): most started on their first attempt.
	assert all(r.attempts == 1 for r in runs)
	print(
		f"\n30 ACME jobs ran one at a time in {(runs[-1].ended_at - runs[0].started_at).total_seconds():.1f} s"
	)


def test_a_limit_of_two_runs_two_at_a_time_and_a_function_key_groups_by_its_result(
	worker_factory, empty_queues
):
	for _ in range(3):
		worker_factory("short")
	names = [
		async_jobs.enqueue(
			F + "limited",
			{"company": company, "seconds": 0.5},
			queue="short",
			concurrency_limit=2,
			concurrency_key=F + "limit_key_of",
		).name
		for company in ["acme", "Acme", "ACME", "acme", "aCme", "ACME"]
	]
	frappe.db.commit()
	rows = wait_for(lambda: finished(names), timeout=240, interval=0.5, message="the jobs to finish")
	assert {r.concurrency_key for r in rows} == {"company=ACME"}
	events = sorted([(r.started_at, 1) for r in rows] + [(r.ended_at, -1) for r in rows])
	running = peak = 0
	for _when, step in events:
		running += step
		peak = max(peak, running)
	assert peak == 2, f"at most 2 at once, and 2 did run at once (peak {peak})"
	assert row(names[0]).concurrency_limit == 2


def test_the_slot_of_a_killed_work_horse_is_freed_by_the_lifeline_and_the_held_job_runs(
	worker_factory, stager, empty_queues
):
	import os
	import signal
	import uuid

	from tests.support.checks import wait_for_status

	worker_factory("short")
	worker_factory("short")
	first, second = uuid.uuid4().hex, uuid.uuid4().hex
	limited = {"queue": "short", "concurrency_limit": 1}
	doomed = async_jobs.enqueue(
		F + "publish_pid_then_sleep", {"marker": first, "seconds": 120}, **limited
	).name
	frappe.db.commit()
	wait_for_status(doomed, "Started")
	waiting = async_jobs.enqueue(
		F + "publish_pid_then_sleep", {"marker": second, "seconds": 0}, **limited
	).name
	frappe.db.commit()
	assert wait_for_status(waiting, "Held").held_by == "limit"
	os.kill(
		int(wait_for(lambda: frappe.cache.get(f"aj-pid:{first}"), message="the horse pid")), signal.SIGKILL
	)
	killed = wait_for_status(doomed, "Failed")
	assert "Work horse killed" in killed.error
	ran = wait_for_status(waiting, "Finished")
	assert ran.started_at >= killed.ended_at
	frappe.cache.delete(f"aj-pid:{first}", f"aj-pid:{second}")
