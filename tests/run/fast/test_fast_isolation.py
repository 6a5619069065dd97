"""The fast worker's child between jobs, beyond the environment and the working directory: signal handlers and the
C library's time zone are put back; a job that leaves a thread running gets its child replaced (always the real
fast worker)."""

import pytest
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from rq.job import Job

from tests.support.harness import start_worker, wait_for

pytestmark = pytest.mark.worker
J = "async_jobs.testing.fast_jobs."


@pytest.fixture
def fast_worker(empty_queues):
	proc = start_worker("short", kind="fast")
	yield proc
	proc.stop()


def run(method: str, **kwargs):
	"""Run one job on the fast worker and return its result."""
	job = frappe_enqueue(J + method, queue="short", **kwargs)
	wait_for(lambda: job.get_status(refresh=True) in ("finished", "failed"), timeout=60, message=method)
	assert job.get_status() == "finished", Job.fetch(job.id, connection=job.connection).exc_info
	return job.return_value()


def test_signal_handlers_and_the_time_zone_a_job_changed_are_put_back(fast_worker):
	before = run("process_state")
	assert run("change_process_state", zone="Asia/Kolkata") == before["pid"]

	after = run("process_state")
	assert after["pid"] == before["pid"], "the child was replaced: nothing was proved"
	assert after["sigusr1_default"] and after["tzname"] == before["tzname"]


def test_a_job_that_leaves_a_thread_running_gets_its_child_replaced(fast_worker):
	child = run("leave_a_thread", seconds=120)

	after = run("process_state")
	assert after["pid"] != child and "aj-left-behind" not in after["threads"]
