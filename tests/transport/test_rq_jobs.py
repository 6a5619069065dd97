"""RQ ids with real workers: every push of a tracked job is an RQ job of its own, so RQ's registries never hold an
id whose job hash a later push replaced — and Frappe can always clear its failed jobs (an upgrade patch removes
what earlier versions left)."""

import socket
import time
import uuid
from contextlib import contextmanager

import frappe
import pytest
from frappe.core.doctype.rq_job.rq_job import remove_failed_jobs, serialize_job
from frappe.installer import update_site_config
from frappe.utils.background_jobs import get_queue, get_redis_conn
from rq.job import Job

import async_jobs
from async_jobs.engine.control import lifeline
from async_jobs.engine.transport.rq_jobs import full_rq_job_id
from async_jobs.patches.failed_entries_without_job import remove_entries_without_job
from tests.support.checks import row, wait_for_status
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker
F = "async_jobs.testing.jobs."


def closed_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]  # nothing listens there once the socket is closed


@contextmanager
def database_unreachable():
	"""Connections the site opens from now on are refused, as while MariaDB restarts (this process keeps its
	own connection)."""
	before = frappe.local.conf.get("db_port")
	update_site_config("db_port", closed_port())
	try:
		yield
	finally:
		update_site_config("db_port", before if before is not None else "None")  # "None" removes the key
		if before is None:  # update_site_config leaves the string "None" in this process's conf
			frappe.local.conf.pop("db_port", None)


def rq_status(rq_id: str) -> str | None:
	try:
		return Job.fetch(rq_id, connection=get_redis_conn()).get_status()
	except Exception:
		return None


def failed_without_job(name: str) -> list[str]:
	"""Failed-registry entries of job `name` whose job hash is gone (Frappe can neither show nor remove them)."""
	conn = get_redis_conn()
	prefix = full_rq_job_id(name)
	registry = get_queue("short").failed_job_registry
	return [i for i in registry.get_job_ids() if i.startswith(prefix) and not Job.exists(i, connection=conn)]


def test_a_job_whose_rq_job_failed_before_it_started_runs_again_as_a_new_rq_job(worker_factory, empty_queues):
	name = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short").name
	frappe.db.commit()
	first = row(name).rq_job_id
	with database_unreachable():
		worker = worker_factory("short")
		wait_for(
			lambda: rq_status(first) == "failed", timeout=60, message="the RQ job to fail on the database"
		)
	assert row(name).status == "Queued", "the start was recorded although the database was unreachable"

	# The lifeline enqueues it again (this job only: rows other tests left waiting are not ours to run here);
	# RQ keeps that push's result for 1 s instead of 10 minutes.
	assert lifeline.rq_states([first], get_redis_conn())[0][0] not in lifeline.WILL_RUN
	frappe.local.conf.rq_results_ttl = 1
	try:
		assert lifeline.recover(row(name)) == 1
	finally:
		del frappe.local.conf["rq_results_ttl"]
	finished = wait_for_status(name, "Finished")
	wait_for(
		lambda: not Job.exists(finished.rq_job_id, connection=get_redis_conn()),
		message="the result to expire",
	)

	assert finished.rq_job_id != first and finished.recovered == 1
	assert rq_status(first) != "finished", "the later push replaced the failed RQ job"
	assert not failed_without_job(name)
	remove_failed_jobs()
	assert first not in get_queue("short").failed_job_registry.get_job_ids()
	assert worker.alive()


def test_a_snoozed_job_runs_again_as_a_new_rq_job(worker_factory, stager):
	worker_factory("short")
	marker = uuid.uuid4().hex
	name = async_jobs.enqueue(F + "snooze_once", {"marker": marker, "seconds": 0.5}, queue="short").name
	frappe.db.commit()
	first = row(name).rq_job_id
	job = wait_for_status(name, "Finished", timeout=60)
	frappe.cache.delete(f"aj-attempts:{marker}")

	assert job.rq_job_id != first
	wait_for(lambda: rq_status(job.rq_job_id) == "finished", message="RQ to record the second run")
	assert rq_status(first) == "finished", "the second run replaced the first one's RQ job"


def test_the_upgrade_patch_removes_only_this_sites_failed_entries_whose_job_is_gone():
	conn = get_redis_conn()
	registry = get_queue("short").failed_job_registry
	site = frappe.local.site
	kept = [f"{site}::async_job::{uuid.uuid4().hex[:10]}", f"other.site::async_job::{uuid.uuid4().hex[:10]}"]
	gone = f"{site}::async_job::{uuid.uuid4().hex[:10]}"
	Job.create("frappe.ping", id=kept[0], connection=conn).save()  # a failed job that still exists
	expires = time.time() + 3600
	conn.zadd(registry.key, {gone: expires, kept[0]: expires, kept[1]: expires})  # what earlier versions left
	try:
		assert remove_entries_without_job(conn, f"{site}::async_job::") == 1
		assert gone not in registry.get_job_ids() and set(kept) <= set(registry.get_job_ids())
	finally:
		conn.zrem(registry.key, gone, *kept)
		conn.delete(Job.key_for(kept[0]))


def test_frappes_rq_job_list_names_what_a_tracked_job_runs_and_the_rq_id_keeps_its_scheme():
	"""Frappe's RQ Job list shows the job type (or the method), not the executor every tracked job goes through."""
	typed = async_jobs.enqueue("aj-test-add", {"a": 1, "b": 2}, delay=600)
	plain = async_jobs.enqueue("async_jobs.testing.jobs.add", {"a": 1, "b": 2}, delay=600)
	frappe.db.commit()  # pushes them (held in the delayed set: no worker takes them)
	try:
		for job, name in ((typed, "aj-test-add"), (plain, "async_jobs.testing.jobs.add")):
			rq_id = full_rq_job_id(job.name)
			assert rq_id == f"{frappe.local.site}::async_job::{job.name}"
			shown = serialize_job(Job.fetch(rq_id, connection=get_redis_conn()))
			assert shown.job_name == name, shown.job_name
			assert name in Job.fetch(rq_id, connection=get_redis_conn()).description
	finally:
		for job in (typed, plain):
			async_jobs.cancel(job.name)
		frappe.db.commit()
