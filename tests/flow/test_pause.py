"""Pausing a queue from the command line, on both worker kinds: while paused none of its jobs starts — tracked or
plain Frappe jobs — while the worker goes on with its other queues; the pause survives a worker restart; resumed,
the waiting jobs run in order and nothing is lost. The watchdog alerts on a queue paused too long."""

import time

import frappe
import pytest
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import generate_qname, get_redis_conn

import async_jobs
from async_jobs.engine.health.queues import pause_findings
from async_jobs.engine.transport import pause
from tests.support.checks import row, todo_count, wait_for_status
from tests.support.harness import run_bench, start_worker, wait_for

F = "async_jobs.testing.jobs."


@pytest.fixture
def resumed():
	yield
	get_redis_conn().hdel(pause.PAUSED_KEY, "long")


@pytest.mark.worker
@pytest.mark.parametrize("kind", ["bench", "fast"])
def test_a_paused_queue_starts_no_job_of_either_kind_until_resumed(kind, resumed, empty_queues):
	marker = f"aj-pause-{kind}-{frappe.generate_hash(length=6)}"
	out = run_bench("async-jobs", "pause", "long")
	assert out.returncode == 0 and "Queue long paused" in out.stdout, out.stdout + out.stderr
	worker = start_worker("short,long", kind=kind)
	try:
		tracked = [
			async_jobs.enqueue(F + "record_marker", {"marker": f"{marker}-t{i}"}, queue="long").name
			for i in range(3)
		]
		frappe_enqueue(F + "record_marker", queue="long", marker=f"{marker}-plain")
		frappe.db.commit()
		# The worker keeps serving its other queue: a job on short runs, the long ones do not.
		probe = async_jobs.enqueue(F + "add", {"a": 1, "b": 1}, queue="short").name
		frappe.db.commit()
		wait_for_status(probe, "Finished")
		worker.stop()  # the pause outlives the worker
		worker = start_worker("short,long", kind=kind)
		probe = async_jobs.enqueue(F + "add", {"a": 2, "b": 2}, queue="short").name
		frappe.db.commit()
		wait_for_status(probe, "Finished")
		assert todo_count(marker) == 0, "a job of the paused queue ran"
		assert {row(n).status for n in tracked} == {"Queued"}
		assert get_redis_conn().llen(f"rq:queue:{generate_qname('long')}") >= 4, (
			"jobs of the paused queue left RQ"
		)

		out = run_bench("async-jobs", "resume", "long")
		assert out.returncode == 0 and "Queue long resumed" in out.stdout, out.stdout + out.stderr
		for name in tracked:
			wait_for_status(name, "Finished")
		wait_for(lambda: todo_count(marker) == 4, timeout=60, message="the plain job to run too")
	finally:
		worker.stop()


def test_pausing_an_unknown_queue_is_refused_and_names_the_queues():
	out = run_bench("async-jobs", "pause", "nope")
	assert out.returncode != 0 and "queue must be one of" in (out.stdout + out.stderr)


def test_the_watchdog_alerts_on_a_queue_paused_longer_than_the_setting():
	config = frappe._dict(max_pause_minutes=60)
	now = time.time()
	found = pause_findings(
		{"long": {"at": now - 61 * 60, "by": "a@b.c"}, "short": {"at": now - 60}}, config, now
	)
	assert [f.key for f in found] == ["paused:long"] and "a@b.c" in found[0].message
	assert "bench async-jobs resume long" in found[0].fix
	assert pause_findings({"long": {"at": now - 7200}}, frappe._dict(max_pause_minutes=0), now) == []
