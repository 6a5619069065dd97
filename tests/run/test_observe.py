"""Observed jobs: plain `frappe.enqueue` jobs and scheduled jobs — never started through async_jobs — end as ledger
rows marked Observed, with the right end state, on real workers of both kinds (work horse hooks → Redis → the
stager; what a horse cannot record, the lifeline reads from RQ)."""

import json
import os
import signal
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import get_job
from rq.utils import utcformat

import async_jobs
from async_jobs.engine.ledger.observed import KIND_OBSERVED, row_name
from async_jobs.engine.ledger.redact import REDACTED
from async_jobs.engine.views import dashboard, jobs
from tests.support import harness, world
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."
KINDS = ["bench", "fast"]


@pytest.fixture
def marker():
	return f"obs-{uuid.uuid4().hex[:10]}"


def plain(method: str, queue: str = "short", **kwargs):
	"""A job enqueued exactly as Frappe's and ERPNext's own code does; returns its RQ job."""
	job = frappe_enqueue(F + method, queue=queue, **kwargs)
	frappe.db.commit()
	return job


def name_of(rq_job) -> str:
	return row_name(rq_job.id, utcformat(rq_job.enqueued_at))


def observed(name: str, *statuses: str, timeout: float = 90) -> frappe._dict:
	def ended():
		frappe.db.rollback()
		row = frappe.db.get_value("Async Job", name, "*", as_dict=True)
		return row if row and row.status in statuses else None

	return wait_for(ended, timeout=timeout, interval=0.2, message=f"observed job {name} {'/'.join(statuses)}")


def horse_pid(marker: str) -> int:
	return int(
		wait_for(lambda: frappe.cache.get(f"aj-pid:{marker}"), timeout=60, message="the work horse pid")
	)


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_job_that_succeeds_ends_finished_as_its_enqueuer_with_redacted_arguments(
	stager, kind, marker
):
	worker = harness.start_worker(kind=kind)
	try:
		frappe.set_user(world.OWNER)
		rq_job = plain("plain_ok", marker=marker, password="hunter2-secret")
		frappe.set_user("Administrator")
		tracked = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short")
		frappe.db.commit()
		row = observed(name_of(rq_job), "Finished")
	finally:
		worker.stop()
	assert row.kind == KIND_OBSERVED and row.owner == world.OWNER
	assert (row.method, row.job_type, row.queue, row.rq_job_id) == (
		F + "plain_ok",
		F + "plain_ok",
		"short",
		rq_job.id,
	)
	assert row.worker == worker.rq_name
	arguments = json.loads(row.arguments)
	assert arguments == {"marker": marker, "password": REDACTED}
	assert "hunter2" not in row.arguments
	assert row.queued_at <= row.started_at <= row.ended_at
	assert row.wait_seconds >= 0 and row.run_seconds >= 0 and row.progress_percent == 100
	assert not row.error and not row.traceback
	# The tracked job keeps its own row: it is never observed a second time.
	assert frappe.db.get_value("Async Job", tracked.name, "kind") == "Tracked"
	assert not frappe.db.exists(
		"Async Job", {"kind": KIND_OBSERVED, "method": "async_jobs.engine.run.executor.run"}
	)


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_job_that_raises_ends_failed_with_its_error_traceback_and_error_log(stager, kind, marker):
	worker = harness.start_worker(kind=kind)
	try:
		row = observed(name_of(plain("plain_fail", marker=marker)), "Failed")
	finally:
		worker.stop()
	assert row.error == f"ValueError: plain job {marker} failed on purpose"
	assert "Traceback" in row.traceback and "plain_fail" in row.traceback
	error_log = frappe.get_doc("Error Log", row.error_log)
	assert error_log.method == F + "plain_fail" and marker in error_log.error
	assert row.ended_at and row.run_seconds >= 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_job_past_its_timeout_ends_timed_out(stager, kind):
	worker = harness.start_worker(kind=kind)
	try:
		row = observed(name_of(plain("sleep_quietly", seconds=60, timeout=2)), "Timed Out")
	finally:
		worker.stop()
	assert "JobTimeoutException" in row.error and row.timeout == 2
	assert 1.5 <= row.run_seconds < 60


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_job_whose_work_horse_is_sigkilled_is_ended_by_the_lifeline_from_rqs_registry(
	stager, kind, marker
):
	worker = harness.start_worker(kind=kind)
	try:
		name = name_of(plain("publish_pid_then_sleep", marker=marker, seconds=120))
		observed(name, "Started")
		os.kill(horse_pid(marker), signal.SIGKILL)
		row = observed(name, "Failed")
	finally:
		worker.stop()
	assert row.error.startswith("Work horse killed (SIGKILL, out of memory, or stopped)")
	assert row.ended_at and row.kind == KIND_OBSERVED


def _scheduled_job_type(method: str) -> frappe._dict:
	"""A Scheduled Job Type for a test job, never due on its own: the test runs it as the scheduler would."""
	name = frappe.db.get_value("Scheduled Job Type", {"method": method})
	doc = frappe.get_doc("Scheduled Job Type", name) if name else frappe.new_doc("Scheduled Job Type")
	doc.update({"method": method, "frequency": "Cron", "cron_format": "0 0 1 1 *", "stopped": 0})
	doc.save(ignore_permissions=True)
	frappe.db.commit()
	return doc


@pytest.mark.parametrize("kind", KINDS)
def test_scheduled_jobs_run_through_the_scheduler_path_are_observed_with_their_scheduled_job_type(
	stager, kind
):
	tick, failing = _scheduled_job_type(F + "scheduled_tick"), _scheduled_job_type(F + "scheduled_fail")
	worker = harness.start_worker(kind=kind)
	try:
		rows = {}
		for doc in (tick, failing):
			assert doc.enqueue(
				force=True
			)  # what the scheduler does with a due job: frappe.enqueue(run_scheduled_job)
			frappe.db.commit()
			rq_job = get_job(doc.rq_job_id)
			rows[doc.name] = observed(name_of(rq_job), "Finished", "Failed")
	finally:
		worker.stop()
	ok, failed = rows[tick.name], rows[failing.name]
	assert (ok.status, ok.scheduled_job_type, ok.job_type, ok.owner) == (
		"Finished",
		tick.name,
		F + "scheduled_tick",
		"Administrator",
	)
	# Frappe swallows a scheduled job's failure (RQ sees it finished): the ledger says Failed, with the error.
	assert (failed.status, failed.scheduled_job_type) == ("Failed", failing.name)
	assert (
		failed.error == "RuntimeError: scheduled job failed on purpose"
		and "scheduled_fail" in failed.traceback
	)


def test_users_see_only_the_observed_jobs_they_enqueued_managers_all_and_async_jobs_never_acts_on_them(
	stager,
):
	worker = harness.start_worker()
	try:
		names = {}
		for user in (world.OWNER, world.OTHER):
			frappe.set_user(user)
			names[user] = name_of(plain("plain_ok", marker=f"perm-{user}"))
		frappe.set_user("Administrator")
		for name in names.values():
			observed(name, "Finished")
		failed = name_of(plain("plain_fail", marker="perm-fail"))
		observed(failed, "Failed")
	finally:
		worker.stop()
	mine = set(names.values()) | {failed}

	def visible(user: str, **filters) -> set[str]:
		frappe.set_user(user)
		listed = {
			row.name for row in jobs.list_jobs(jobs.visible_filters(kind=KIND_OBSERVED, **filters), 500)
		}
		via_list = set(frappe.get_list("Async Job", filters={"name": ["in", list(mine)]}, pluck="name"))
		frappe.set_user("Administrator")
		return (listed & mine) | via_list

	assert visible(world.OWNER) == {names[world.OWNER]}
	assert visible(world.OTHER) == {names[world.OTHER]}
	assert visible(world.MANAGER) == mine
	frappe.set_user(world.MANAGER)
	tracked_only = {row.name for row in jobs.list_jobs(jobs.visible_filters(kind="Tracked"), 500)}
	assert not tracked_only & mine
	with pytest.raises(frappe.ValidationError):
		jobs.visible_filters(kind="Sometimes")
	from async_jobs.engine.control.cancel import cancel_job
	from async_jobs.engine.control.requeue import requeue_by_hand

	with pytest.raises(frappe.ValidationError, match="observed"):
		requeue_by_hand(failed)
	with pytest.raises(frappe.ValidationError, match="observed"):
		cancel_job(failed)
	frappe.db.rollback()
	assert frappe.db.get_value("Async Job", failed, "status") == "Failed"
	# The monitor's failures include it when asked for observed jobs, and not when asked for tracked ones.
	assert failed in {j.name for j in dashboard.overview({"kind": KIND_OBSERVED})["failed"]}
	assert failed not in {j.name for j in dashboard.overview({"kind": "Tracked"})["failed"]}
	frappe.set_user("Administrator")


def test_a_waiting_plain_job_is_seen_in_its_queue_and_explained_then_runs(stager, empty_queues, marker):
	name = name_of(plain("plain_ok", queue="long", marker=marker))
	row = observed(name, "Queued", timeout=60)  # no worker on long yet: the stager saw it wait
	assert row.kind == KIND_OBSERVED and row.method == F + "plain_ok" and row.queue == "long"
	waiting = {j.name: j for j in dashboard.overview({"kind": KIND_OBSERVED})["waiting"]}
	assert "No worker listens on queue long" in waiting[name].why
	worker = harness.start_worker("long")
	try:
		row = observed(name, "Finished")
	finally:
		worker.stop()
	assert row.started_at >= row.queued_at and row.wait_seconds >= 4


def test_frappe_publish_progress_of_an_observed_job_is_its_progress(stager, marker):
	worker = harness.start_worker()
	try:
		name = name_of(plain("plain_progress", steps=3, delay=0.2, marker=marker))

		def reported():
			frappe.db.rollback()
			row = frappe.db.get_value(
				"Async Job", name, ["status", "progress_percent", "progress_message"], as_dict=True
			)
			return row if row and row.status == "Started" and row.progress_percent == 100 else None

		row = wait_for(reported, timeout=60, message="the observed job's progress in the ledger")
		assert row.progress_message == f"{marker} step 3"
		frappe.cache.set(f"aj-go:{marker}", 1)
		observed(name, "Finished")
	finally:
		worker.stop()


def test_observation_off_leaves_plain_jobs_out_of_the_ledger(stager, marker):
	settings = frappe.get_single("Async Jobs Settings")
	settings.observe_jobs = 0
	settings.save(ignore_permissions=True)
	frappe.db.commit()
	worker = harness.start_worker()
	try:
		rq_job = plain("plain_ok", marker=marker)
		wait_for(
			lambda: rq_job.get_status(refresh=True) == "finished", timeout=60, message="the plain job's end"
		)
		name = name_of(rq_job)
		settings.observe_jobs = 1
		settings.save(ignore_permissions=True)
		frappe.db.commit()
		observed(name_of(plain("plain_ok", marker=marker + "-again")), "Finished")
	finally:
		settings.reload()
		settings.observe_jobs = 1
		settings.save(ignore_permissions=True)
		frappe.db.commit()
		worker.stop()
	assert not frappe.db.exists("Async Job", name)
