"""Batches on real workers: aggregated counts, exactly-once callbacks (also under a race of the last two children),
records in keyset chunks, cancel, retry of failed children, a worker killed mid-batch."""

import json
import os
import signal
import uuid

import frappe
import psutil
import pytest

import async_jobs
from async_jobs.engine.control.batch import cancel_batch_jobs, requeue_failed_children
from tests.support import world
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."
CALLBACKS = {
	"on_success": F + "on_batch_success",
	"on_complete": F + "on_batch_complete",
	"on_failure": F + "on_batch_failure",
}
ENDED = ("Finished", "Failed", "Cancelled")


@pytest.fixture
def marker():
	marker = f"aj-batch-{uuid.uuid4().hex[:12]}"
	yield marker
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"description": ["like", f"{marker}%"]})
	frappe.db.commit()


def batch_row(name: str) -> frappe._dict:
	frappe.db.rollback()
	return frappe.db.get_value("Async Job Batch", name, "*", as_dict=True)


def wait_for_batch(name: str, *statuses: str, timeout: float = 120) -> frappe._dict:
	statuses = statuses or ENDED
	return wait_for(
		lambda: (r := batch_row(name)) and r.status in statuses and _callbacks_settled(r) and r,
		timeout=timeout,
		message=f"batch {name} to reach {' or '.join(statuses)} with its callbacks ended",
	)


def _callbacks_settled(row) -> bool:
	"""Every callback job the batch enqueued has ended."""
	jobs = [row[f] for f in ("success_job", "complete_job", "failure_job") if row[f]]
	return all(frappe.db.get_value("Async Job", job, "status") in ("Finished", "Failed") for job in jobs)


def fired(batch: str) -> dict[str, int]:
	return {
		kind: int(frappe.cache.get(f"aj-batch-callback:{batch}:{kind}") or 0)
		for kind in ("success", "complete", "failure")
	}


def children(batch: str) -> list[frappe._dict]:
	frappe.db.rollback()
	return frappe.get_all("Async Job", filters={"batch": batch}, fields=["name", "status", "arguments"])


def start_batch(items, **options):
	batch = async_jobs.enqueue_batch(F + options.pop("method", "add"), items, queue="short", **options)
	frappe.db.commit()
	return batch.name


def test_a_batch_counts_its_children_and_fires_success_and_complete_once(worker):
	name = start_batch([{"a": i, "b": 1} for i in range(6)], title="six sums", **CALLBACKS)
	row = wait_for_batch(name)

	assert row.status == "Finished"
	assert (row.total, row.ended, row.succeeded, row.failed, row.progress_percent) == (6, 6, 6, 0, 100)
	assert sorted(json.loads(frappe.db.get_value("Async Job", c.name, "result")) for c in children(name)) == [
		1,
		2,
		3,
		4,
		5,
		6,
	]
	assert fired(name) == {"success": 1, "complete": 1, "failure": 0}
	assert row.failure_job is None
	callback = frappe.db.get_value("Async Job", row.success_job, ["status", "reference_name"], as_dict=True)
	assert callback.status == "Finished" and callback.reference_name == name  # a tracked job of its own


def test_failed_children_fire_failure_once_and_retrying_them_by_hand_fires_success(worker, marker):
	items = [{"marker": marker, "index": i} for i in range(4)]
	name = start_batch(items, method="fail_unless_fixed", **CALLBACKS)
	failed = wait_for_batch(name)
	assert failed.status == "Failed" and (failed.failed, failed.succeeded) == (4, 0)
	assert fired(name) == {"success": 0, "complete": 1, "failure": 1}
	assert frappe.db.exists("Notification Log", {"document_name": name, "document_type": "Async Job Batch"})

	frappe.cache.set(f"aj-fixed:{marker}", 1)
	assert requeue_failed_children(name) == 4
	row = wait_for_batch(name, "Finished")
	assert (row.ended, row.succeeded, row.failed) == (4, 4, 0)
	assert fired(name) == {"success": 1, "complete": 1, "failure": 1}  # complete and failure stay once


def test_records_are_processed_in_keyset_chunks_planned_by_a_job(worker, marker):
	for i in range(230):
		frappe.get_doc({"doctype": "ToDo", "description": f"{marker} {i:04d}", "status": "Open"}).db_insert()
	frappe.db.commit()

	batch = async_jobs.enqueue_for_records(
		F + "close_todos",
		"ToDo",
		{"description": ["like", f"{marker}%"]},
		chunk_size=40,
		kwargs={"marker": marker},
		on_complete=CALLBACKS["on_complete"],
	)
	frappe.db.commit()
	assert batch.status == "Planning" and batch.planner_job
	row = wait_for_batch(batch.name)

	assert row.status == "Finished" and row.total == 6 and row.sealed
	chunks = [json.loads(c) for c in frappe.cache.lrange(f"aj-chunks:{marker}", 0, -1)]
	names = [n for chunk in chunks for n in chunk]
	assert len(chunks) == 6 and all(len(c) <= 40 for c in chunks)
	assert len(names) == len(set(names)) == 230  # every record once: no gaps, no overlaps
	assert frappe.db.count("ToDo", {"description": ["like", f"{marker}%"], "status": "Open"}) == 0
	assert frappe.db.get_value("Async Job", batch.planner_job, "status") == "Finished"
	assert fired(batch.name)["complete"] == 1


def test_an_empty_records_batch_finishes_at_once_and_still_calls_back(worker, marker):
	batch = async_jobs.enqueue_for_records(
		F + "close_todos",
		"ToDo",
		{"description": ["like", f"{marker}%"]},
		kwargs={"marker": marker},
		background=False,
		**CALLBACKS,
	)
	frappe.db.commit()
	row = wait_for_batch(batch.name)
	assert row.status == "Finished" and row.total == 0
	assert fired(batch.name) == {"success": 1, "complete": 1, "failure": 0}


def test_cancelling_a_batch_removes_waiting_children_and_stops_running_ones(worker, marker):
	items = [{"n": 40, "delay": 0.1, "marker": marker} for _ in range(5)]
	name = start_batch(items, method="steps", **CALLBACKS)
	wait_for(
		lambda: any(c.status == "Started" for c in children(name)), timeout=60, message="a child to start"
	)

	handle = cancel_batch_jobs(name)
	assert handle["cancel_requested"]
	row = wait_for_batch(name)

	assert row.status == "Cancelled" and row.ended == row.total == 5
	assert {c.status for c in children(name)} == {"Cancelled"}
	assert fired(name) == {"success": 0, "complete": 1, "failure": 0}


def test_someone_elses_batch_is_refused_and_bad_input_is_a_validation_error(marker):
	frappe.set_user(world.OWNER)
	batch = async_jobs.enqueue_batch(F + "add", [{"a": 1, "b": 1}], queue="short")
	frappe.db.commit()
	frappe.set_user(world.OTHER)
	from async_jobs import api

	with pytest.raises(frappe.PermissionError):
		api.batch_status(batch.name)
	with pytest.raises(frappe.PermissionError):
		api.cancel_batch(batch.name)
	assert not any(b["name"] == batch.name for b in api.active_batches())
	with pytest.raises(frappe.DoesNotExistError):
		api.batch_status("no-such-batch")
	frappe.set_user(world.MANAGER)
	assert api.batch_status(batch.name)["owner"] == world.OWNER
	api.cancel_batch(batch.name)

	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_for_records(F + "close_todos", "No Such DocType")
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_for_records(F + "close_todos", "ToDo", chunk_size=0)
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_batch(F + "add", [{}], on_success="not.a.function")
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_batch(F + "add", [{}], colour="blue")
	frappe.db.rollback()


def run_batch(size: int, failing: bool) -> str:
	"""`size` tiny children; when failing, every 50th fails (its marker is never fixed)."""
	items = [{"marker": "" if failing and i % 50 == 0 else "ok", "index": i} for i in range(size)]
	return start_batch(items, method="fail_unless_fixed", **CALLBACKS)


def test_callbacks_fire_exactly_once_in_20_runs_of_200_children_on_two_workers(worker_factory):
	worker_factory()
	worker_factory()
	frappe.cache.set("aj-fixed:ok", 1)
	outcomes = []
	for run in range(20):
		failing = run % 2 == 1  # odd runs: every 50th child fails
		name = run_batch(200, failing)
		row = wait_for_batch(name, timeout=240)
		expected = {"success": 0 if failing else 1, "complete": 1, "failure": 1 if failing else 0}
		assert fired(name) == expected, (run, row)
		assert row.ended == row.total == 200 and row.failed == (4 if failing else 0)
		callbacks = frappe.db.count(
			"Async Job", {"reference_name": name, "reference_doctype": "Async Job Batch"}
		)
		assert callbacks == sum(expected.values())
		outcomes.append(row.status)
	assert outcomes == ["Finished", "Failed"] * 10


def test_the_last_two_children_ending_at_the_same_instant_fire_each_callback_once(worker_factory):
	worker_factory()
	worker_factory()
	for _ in range(5):
		marker = uuid.uuid4().hex
		name = start_batch([{"marker": marker}, {"marker": marker}], method="meet_then_end", **CALLBACKS)
		wait_for_batch(name)
		assert fired(name) == {"success": 1, "complete": 1, "failure": 0}


def test_killing_a_worker_mid_batch_still_ends_the_batch(worker_factory, stager, marker):
	doomed = worker_factory()
	worker_factory()
	retry = {"max_attempts": 4, "base": 1, "jitter": 0}
	items = [{"n": 4, "delay": 0.25, "marker": marker} for _ in range(30)]
	name = start_batch(items, method="steps", retry=retry, **CALLBACKS)
	wait_for(lambda: batch_row(name).ended >= 5, timeout=120, message="a few children to end")

	tree = psutil.Process(doomed.popen.pid).children(recursive=True)
	doomed.signal(signal.SIGKILL)
	for process in tree:  # the work horses (RQ puts them in sessions of their own)
		try:
			os.kill(process.pid, signal.SIGKILL)
		except ProcessLookupError:
			pass

	row = wait_for_batch(name, timeout=180)
	assert row.ended == row.total == 30
	assert row.status in ("Finished", "Failed")
	assert fired(name)["complete"] == 1
	print(f"\nbatch after a killed worker: {row.status}, {row.succeeded} succeeded, {row.failed} failed")


def test_enqueue_many_makes_the_same_rows_and_jobs_as_enqueue_and_a_rollback_leaves_none(worker):
	rolled_back = async_jobs.enqueue_many(F + "add", [{"a": i, "b": 100} for i in range(5)], queue="short")
	frappe.db.rollback()
	assert not frappe.db.exists("Async Job", {"name": ["in", rolled_back]})

	frappe.set_user(world.OWNER)
	names = async_jobs.enqueue_many(F + "add", ({"a": i, "b": 1} for i in range(25)), queue="short")
	frappe.set_user("Administrator")
	frappe.db.commit()
	wait_for(
		lambda: (
			frappe.db.rollback()
			or frappe.db.count("Async Job", {"name": ["in", names], "status": "Finished"}) == 25
		),
		timeout=90,
		message="25 bulk-enqueued jobs to finish",
	)
	rows = {r.name: r for r in frappe.get_all("Async Job", filters={"name": ["in", names]}, fields=["*"])}
	assert [json.loads(rows[n].result) for n in names] == [i + 1 for i in range(25)]
	assert {rows[n].owner for n in names} == {world.OWNER}
	assert all(rows[n].attempts == 1 and rows[n].encrypted_arguments for n in names)
	assert not frappe.get_all("Async Job", filters={"name": ["in", rolled_back]})


def test_enqueue_many_refuses_bad_arguments_with_a_validation_error():
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_many(F + "add", [{"a": 1, "b": 1}, "not a dict"])
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_many(F + "add", [{"a": lambda: 1}])
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_many(F + "add", [{"a": "x" * 600_000}])
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_many(F + "add", [{}], queue="no-such-queue")
	with pytest.raises(frappe.ValidationError):
		async_jobs.enqueue_many("not.a.function", [{}])
	frappe.db.rollback()
