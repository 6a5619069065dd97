"""The fast worker (`bench async-jobs worker`), always the real process: one child performs many jobs, and each
job still starts from a clean slate; timeouts, crashes, recycling and SIGTERM behave as the README says."""

import os
import signal
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from rq import Worker
from rq.job import Job

import async_jobs
from async_jobs.testing import fast_jobs
from tests.support import world
from tests.support.harness import (
	ADMIN_PASSWORD,
	COMMON_CONFIG,
	SITE,
	run_bench,
	start_worker,
	wait_for,
)

pytestmark = pytest.mark.worker
J = "async_jobs.testing.fast_jobs."


@pytest.fixture
def fast_worker(empty_queues):
	"""Start fast workers on the short queue with the given options; all are stopped when the test ends."""
	procs = []

	def start(*options: str):
		procs.append(start_worker("short", kind="fast", options=options))
		return procs[-1]

	yield start
	for proc in procs:
		proc.stop()


@pytest.fixture
def marker() -> str:
	return f"aj-fast-{uuid.uuid4().hex[:10]}"


def enqueue(method: str, **kwargs) -> Job:
	return frappe_enqueue(J + method, queue="short", **kwargs)


def ended(job: Job, timeout: float = 60) -> Job:
	"""Wait until RQ says the job ended; return it refreshed."""
	wait_for(
		lambda: job.get_status(refresh=True) in ("finished", "failed", "stopped"),
		timeout=timeout,
		message=f"job {job.id} to end",
	)
	return job


def result(job: Job, timeout: float = 60):
	assert ended(job, timeout).get_status() == "finished", job.exc_info
	return job.return_value()


def todo_exists(text: str) -> bool:
	frappe.db.rollback()
	return bool(frappe.db.exists("ToDo", {"description": ["like", f"{text}%"]}))


def wait_for_status(name: str, status: str, timeout: float = 60):
	def check():
		frappe.db.rollback()
		row = frappe.get_doc("Async Job", name)
		return row if row.status == status else None

	return wait_for(check, timeout=timeout, message=f"{name} to be {status}")


def test_the_next_job_on_the_same_child_sees_none_of_the_mess_the_previous_one_left(fast_worker, marker):
	fast_worker()
	expected_session = [str(v) for v in frappe.db.sql(fast_jobs.SESSION_QUERY)[0]]  # a fresh connection's
	messy = enqueue("leave_a_mess", marker=marker)
	clean = enqueue("inspect_state", marker=marker)

	seen = result(clean)
	assert result(messy) == seen["pid"], "both jobs must run in the same child for this test to mean anything"
	assert seen["user"] == "Administrator", "the job runs as the user who enqueued it"
	assert seen["flags"] is None and seen["local"] is None and seen["conf"] is None
	assert seen["local_cache"] is None and seen["environ"] is None
	assert seen["session"] == expected_session, "session and user variables are back to a new connection's"
	assert not seen["temp_table"] and seen["lock_free"]
	assert seen["job"] == J + "inspect_state"
	assert not todo_exists(f"{marker} uncommitted"), "the write left uncommitted was rolled back"


def test_autocommit_turned_on_by_one_job_is_off_again_for_the_next(fast_worker, marker):
	fast_worker()
	expected_session = [str(v) for v in frappe.db.sql(fast_jobs.SESSION_QUERY)[0]]
	first = enqueue("autocommit_on")
	seen = result(enqueue("inspect_state", marker=marker))

	assert result(first) == seen["pid"]
	assert seen["session"] == expected_session


def test_frappes_own_job_runs_as_its_user_with_hooks_commit_and_rollback(fast_worker, marker):
	fast_worker()
	frappe.set_user(world.OWNER)
	ok = enqueue("hooks_and_commit", marker=marker)
	failing = frappe_enqueue(
		"async_jobs.testing.jobs.record_marker_then_fail", queue="short", marker=f"{marker}-failing"
	)
	frappe.set_user("Administrator")

	assert result(ok) == world.OWNER
	assert todo_exists(marker), "the job's write was committed"
	assert frappe.cache.get(f"aj-after-job:{marker}").decode() == world.OWNER, "after_job callbacks ran"
	assert ended(failing).get_status() == "failed"
	assert not todo_exists(f"{marker}-failing"), "the failing job's write was rolled back"
	assert frappe.db.exists(
		"Error Log",
		{"method": "async_jobs.testing.jobs.record_marker_then_fail", "error": ["like", f"%{marker}%"]},
	)


def test_a_soft_timeout_fails_the_job_and_keeps_the_child(fast_worker):
	fast_worker()
	before = result(enqueue("pid"))
	slow = frappe_enqueue("async_jobs.testing.jobs.sleep_quietly", queue="short", timeout=1, seconds=30)

	assert ended(slow).get_status() == "failed"
	assert "JobTimeoutException" in slow.exc_info
	assert result(enqueue("pid")) == before


def test_a_tracked_job_over_its_timeout_ends_timed_out(fast_worker):
	fast_worker()
	name = async_jobs.enqueue(
		"async_jobs.testing.jobs.sleep_quietly", {"seconds": 30}, queue="short", timeout=1
	).name
	frappe.db.commit()
	job = wait_for_status(name, "Timed Out", timeout=30)
	assert "JobTimeoutException" in job.error


def test_a_job_that_ignores_its_timeout_gets_its_child_killed_and_replaced(fast_worker, stager):
	worker = fast_worker("--hard-timeout-grace", "2")
	before = result(enqueue("pid"))
	stubborn = frappe_enqueue(
		"async_jobs.testing.jobs.ignore_timeout_and_sleep", queue="short", timeout=1, seconds=120
	)
	tracked = async_jobs.enqueue(
		"async_jobs.testing.jobs.ignore_timeout_and_sleep", {"seconds": 120}, queue="short", timeout=1
	).name
	frappe.db.commit()

	assert ended(stubborn, timeout=30).get_status() == "failed"
	assert "terminated unexpectedly" in stubborn.exc_info and "signal 9" in stubborn.exc_info
	job = wait_for_status(tracked, "Timed Out", timeout=60)
	assert "Killed after its timeout of 1 s" in job.error
	after = result(enqueue("pid"))
	assert after != before, "a new child took over"
	assert worker.alive()


def test_a_crashing_job_is_accounted_for_and_the_child_replaced(fast_worker, stager):
	worker = fast_worker()
	before = result(enqueue("pid"))
	crashed = enqueue("crash")
	tracked = async_jobs.enqueue(J + "crash", queue="short").name
	frappe.db.commit()

	assert ended(crashed).get_status() == "failed"
	assert "terminated unexpectedly" in crashed.exc_info
	job = wait_for_status(tracked, "Failed", timeout=60)
	assert "Work horse killed" in job.error
	assert result(enqueue("pid")) not in (before, None)
	assert worker.alive()


def test_the_child_is_recycled_after_max_jobs(fast_worker):
	fast_worker("--max-jobs", "3")
	pids = [result(job) for job in [enqueue("pid") for _ in range(7)]]

	assert len(set(pids[0:3])) == 1 and len(set(pids[3:6])) == 1
	assert len({pids[0], pids[3], pids[6]}) == 3, pids


def test_the_child_is_recycled_when_its_memory_passes_the_limit(fast_worker):
	fast_worker("--max-memory-mb", "1")
	pids = [result(job) for job in [enqueue("pid") for _ in range(3)]]

	assert len(set(pids)) == 3, pids


def test_rq_and_frappe_see_the_worker_busy_with_the_job(fast_worker, marker):
	worker = fast_worker()
	job = enqueue("sleep_then_mark", marker=marker, seconds=3)
	wait_for(lambda: frappe.cache.get(f"aj-started:{marker}"), message="the job to start")
	from frappe.utils.background_jobs import get_redis_conn

	rq_worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker.rq_name, get_redis_conn())
	assert rq_worker.get_state() == "busy" and rq_worker.get_current_job_id() == job.id
	assert result(job)


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits_0(fast_worker, marker):
	worker = fast_worker()
	job = enqueue("sleep_then_mark", marker=marker, seconds=3)
	wait_for(lambda: frappe.cache.get(f"aj-started:{marker}"), message="the job to start")
	worker.popen.send_signal(signal.SIGTERM)

	assert worker.popen.wait(60) == 0
	assert result(job, timeout=5)
	assert todo_exists(f"{marker} finished")


def test_sigterm_kills_a_job_still_running_after_the_shutdown_grace(fast_worker, marker):
	worker = fast_worker("--shutdown-grace", "1")
	job = enqueue("sleep_then_mark", marker=marker, seconds=60)
	child = int(wait_for(lambda: frappe.cache.get(f"aj-started:{marker}"), message="the job to start"))
	worker.popen.send_signal(signal.SIGTERM)

	assert worker.popen.wait(30) == 0
	assert ended(job, timeout=5).get_status() == "failed"
	assert "shutdown" in job.exc_info
	assert not todo_exists(f"{marker} finished")
	with pytest.raises(ProcessLookupError):
		os.kill(child, 0)


@pytest.fixture(scope="module")
def second_site():
	"""A second site on the bench (Frappe only), dropped afterwards."""
	name = f"aj-fast-{uuid.uuid4().hex[:8]}.localhost"
	root_password = COMMON_CONFIG["root_password"]
	created = run_bench(
		"new-site", name, "--admin-password", ADMIN_PASSWORD, "--db-root-password", root_password
	)
	assert created.returncode == 0, created.stderr[-3000:]
	yield name
	run_bench("drop-site", name, "--force", "--no-backup", "--db-root-password", root_password, timeout=120)


def enqueue_for(site: str, method: str, **kwargs) -> Job:
	"""A job for another site, as frappe.enqueue on that site would push it (queues are the bench's)."""
	from frappe.utils.background_jobs import execute_job, get_queue

	return get_queue("short").enqueue_call(
		execute_job,
		kwargs={
			"site": site,
			"method": method,
			"event": None,
			"job_name": method,
			"kwargs": kwargs,
			"user": "Administrator",
			"is_async": True,
		},
	)


@pytest.mark.slow
def test_one_child_serves_two_sites_each_job_on_its_own_site_and_database(fast_worker, second_site, marker):
	fast_worker()
	first = enqueue_for(SITE, J + "pid")
	# the second site has only Frappe: its jobs are Frappe's own functions
	writes = [
		enqueue_for(
			site, "frappe.defaults.set_global_default", key="aj_fast_probe", value=f"{marker}-{site}-{i}"
		)
		for i in range(3)
		for site in (SITE, second_site)
	]
	last = enqueue_for(SITE, J + "pid")

	assert result(first) == result(last), "one child ran them all"
	for job in writes:
		result(job)
	frappe.db.rollback()
	assert frappe.defaults.get_global_default("aj_fast_probe") == f"{marker}-{SITE}-2"
	theirs = run_bench(
		"--site", second_site, "execute", "frappe.defaults.get_global_default", "--args", '["aj_fast_probe"]'
	)
	assert f"{marker}-{second_site}-2" in theirs.stdout, theirs.stdout + theirs.stderr
