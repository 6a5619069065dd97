"""Who a job runs as: every attempt runs as the job's owner, whoever pushes it — the lifeline recovering it, a
manager's retry (API or bench command), the settling of a batch by someone else — on real workers."""

import json
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import get_redis_conn
from rq.job import Job

import async_jobs
from async_jobs.engine.control import lifeline
from async_jobs.engine.control.batch import cancel_batch_jobs
from tests.support import world
from tests.support.checks import row, todo_owners, wait_for_status
from tests.support.harness import BASE_URL, SITE, run_bench, wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."
OWNER, MANAGER = world.OWNER, world.MANAGER


@pytest.fixture
def marker():
	marker = f"aj-identity-{uuid.uuid4().hex[:12]}"
	yield marker
	frappe.db.rollback()
	frappe.db.delete("ToDo", {"description": ["like", f"{marker}%"]})
	frappe.db.commit()
	frappe.cache.delete(f"aj-attempts:{marker}")


def enqueue_as(user: str, method: str, kwargs: dict | None = None, **options) -> str:
	frappe.set_user(user)
	job = async_jobs.enqueue(F + method, kwargs, queue="short", **options)
	frappe.db.commit()
	frappe.set_user("Administrator")
	return job.name


def rq_job(name: str) -> Job:
	return Job.fetch(row(name).rq_job_id, connection=get_redis_conn())


def test_a_users_job_whose_rq_job_vanished_is_recovered_by_the_lifeline_and_runs_as_the_user(
	worker_factory, marker
):
	name = enqueue_as(OWNER, "record_marker", {"marker": marker})
	rq_job(name).delete()  # Redis lost it
	frappe.db.sql("UPDATE `tabAsync Job` SET modified = modified - INTERVAL 1 MINUTE WHERE name = %s", name)
	frappe.db.commit()

	assert frappe.session.user == "Administrator"  # as the stager and the scheduler run the lifeline
	assert lifeline.reconcile()["recovered"] >= 1
	frappe.db.commit()
	worker_factory()
	assert wait_for_status(name, "Finished").recovered == 1
	assert todo_owners(marker) == [OWNER]


@pytest.mark.parametrize("how", ["api", "bench command"])
def test_a_managers_retry_runs_as_the_jobs_owner(worker_factory, clients, marker, how):
	worker_factory()
	name = enqueue_as(OWNER, "record_marker_after_failures", {"marker": marker, "failures": 1})
	wait_for_status(name, "Failed")

	if how == "api":
		response = clients[MANAGER].post(
			f"{BASE_URL}/api/method/async_jobs.api.retry", data={"name": name}, timeout=30
		)
		assert response.status_code == 200, response.text
	else:
		done = run_bench(
			"--site", SITE, "async-jobs", "retry", "--status", "Failed", "--owner", OWNER,
			"--job-type", F + "record_marker_after_failures",
		)  # fmt: skip
		assert done.returncode == 0, done.stdout + done.stderr
	job = wait_for_status(name, "Finished")
	assert json.loads(job.result) == OWNER
	assert todo_owners(marker) == [OWNER]


def test_a_batch_callback_runs_as_the_batchs_owner_whoever_settles_the_batch(worker_factory, marker):
	frappe.set_user(OWNER)
	batch = async_jobs.enqueue_batch(
		F + "add",
		[{"a": 1, "b": 1}],
		queue="short",
		on_complete=F + "record_callback_marker",
		callback_kwargs={"marker": marker},
	)
	frappe.db.commit()
	frappe.set_user("Administrator")
	cancel_batch_jobs(batch.name)  # settled here, as Administrator: the callback is pushed from this process

	worker_factory()
	callback = wait_for(
		lambda: frappe.db.rollback() or frappe.db.get_value("Async Job Batch", batch.name, "complete_job"),
		message="the on_complete callback",
	)
	job = wait_for_status(callback, "Finished")
	assert job.owner == OWNER and json.loads(job.result) == OWNER
	assert todo_owners(marker) == [OWNER]


def test_an_rq_job_that_names_another_user_still_runs_as_the_jobs_owner(worker_factory):
	name = enqueue_as(OWNER, "whoami")
	job = rq_job(name)
	kwargs = job.kwargs
	kwargs["user"] = "Administrator"  # as RQ jobs the lifeline or a manager pushed looked before the fix
	job.kwargs = kwargs
	job.save()
	assert rq_job(name).kwargs["user"] == "Administrator"

	worker_factory()
	assert json.loads(wait_for_status(name, "Finished").result)["user"] == OWNER
