"""An attempt the lifeline gave up on (its work horse frozen: no heartbeat) while the next attempt runs cannot
overwrite that newer attempt when it ends late: every write of an attempt is guarded by its attempt number."""

import json
import os
import signal
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import get_redis_conn
from rq.job import Job

import async_jobs
from async_jobs.engine.transport.rq_jobs import full_rq_job_id
from tests.support import world
from tests.support.checks import row, wait_for_status
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def marker():
	"""A marker whose attempts are all let go at the end (a failed run leaves no attempt waiting for a worker)."""
	marker = f"aj-stale-{uuid.uuid4().hex[:12]}"
	yield marker
	for attempt in (1, 2, 3):
		frappe.cache.set(f"aj-go:{marker}:{attempt}", 1, ex=300)


def pid_of(marker: str, attempt: int) -> int:
	key = f"aj-pid:{marker}:{attempt}"
	return int(wait_for(lambda: frappe.cache.get(key), timeout=60, message=f"attempt {attempt}'s pid"))


def test_a_late_end_of_an_abandoned_attempt_does_not_overwrite_the_next_attempt(
	worker_factory, stager, marker
):
	worker_factory()
	worker_factory()  # the next attempt needs a worker while the first one's stays frozen
	retry = {"max_attempts": 3, "base": 0, "jitter": 0}
	name = async_jobs.enqueue(
		"async_jobs.testing.jobs.wait_for_go", {"marker": marker}, queue="short", retry=retry
	).name
	frappe.db.commit()
	first = pid_of(marker, 1)
	os.kill(first, signal.SIGSTOP)  # as a stalled host: no heartbeat, and the lifeline gives the attempt up
	try:
		wait_for(
			lambda: (r := row(name)).attempts == 2 and r.status == "Started",
			timeout=world.LIFELINE_STALE + 60,
			message="the lifeline to start attempt 2",
		)
		frappe.cache.set(f"aj-go:{marker}:1", 1)
	finally:
		os.kill(first, signal.SIGCONT)
	wait_for(
		lambda: Job.fetch(full_rq_job_id(name, 1), connection=get_redis_conn()).get_status() == "finished",
		timeout=60,
		message="attempt 1 to end",
	)

	still = row(name)
	assert (still.status, still.attempts, still.result) == ("Started", 2, None), (
		"attempt 1 overwrote attempt 2"
	)
	frappe.cache.set(f"aj-go:{marker}:2", 1)
	done = wait_for_status(name, "Finished")
	assert json.loads(done.result) == 2
	assert [a["status"] for a in json.loads(done.attempt_log)] == ["Retrying", "Finished"]
