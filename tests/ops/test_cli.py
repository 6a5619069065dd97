"""Operator commands, run as real `bench --site S async-jobs ...` subprocesses against the test site."""

import socket
import uuid

import frappe
import pytest

import async_jobs
from async_jobs.cli import bar
from tests.support.alerting import scheduler
from tests.support.checks import row, wait_for_status
from tests.support.harness import SITE, run_bench, wait_for
from tests.support.ledger_rows import bulk_insert, left

F = "async_jobs.testing.jobs."


def bench(*args: str):
	return run_bench("--site", SITE, "async-jobs", *args, timeout=300)


def test_a_progress_bar_fills_with_the_percentage():
	assert bar(0) == "[........................]   0%"
	assert bar(50, width=10) == "[#####.....]  50%"
	assert bar(150, width=4) == "[####] 100%"


@pytest.mark.worker
def test_status_lists_queues_workers_and_running_jobs_with_progress_bars(worker_factory):
	worker = worker_factory("short")
	job = async_jobs.enqueue(F + "steps", {"n": 20, "delay": 0.5}, queue="short")
	frappe.db.commit()
	wait_for(lambda: (r := row(job.name)).status == "Started" and r.progress_percent >= 10, timeout=60)

	out = bench("status")

	assert out.returncode == 0, out.stderr
	assert f"async_jobs on {SITE}" in out.stdout
	assert "short" in out.stdout and "workers" in out.stdout
	(listed,) = [line for line in out.stdout.splitlines() if worker.rq_name in line]
	assert f"{socket.gethostname()} pid {worker.pid}" in listed and "busy" in listed
	assert f"{socket.gethostname()}:{worker.pid} (" in listed  # host:pid (kind), as the Desk shows it
	(line,) = [line for line in out.stdout.splitlines() if job.name in line]
	assert (
		"[#" in line
		and "%" in line
		and "step" in line
		and f"on {socket.gethostname()}:{worker.pid} (" in line
	)
	wait_for_status(job.name, "Finished", timeout=60)


@pytest.fixture
def scheduler_off():
	with scheduler(0):
		yield


def test_health_prints_open_alerts_with_their_fix_and_exits_1(scheduler_off):
	out = bench("health")

	assert out.returncode == 1, out.stdout + out.stderr
	assert "scheduler" in out.stdout and f"bench --site {SITE} enable-scheduler" in out.stdout

	frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
	frappe.db.commit()
	again = bench("health")
	assert "cleared: scheduler-disabled" in again.stdout


def test_prune_dry_run_counts_then_prune_deletes_with_progress():
	marker = f"aj-cli-{uuid.uuid4().hex[:8]}"
	bulk_insert(marker, "Finished", 60, 7)

	dry = bench("prune", "--dry-run")
	assert dry.returncode == 0, dry.stderr
	assert "dry run" in dry.stdout and "Finished jobs: would delete" in dry.stdout
	assert left(marker) == {"Finished": 7}

	real = bench("prune", "--batch", "3")
	assert real.returncode == 0, real.stderr
	assert "Finished jobs: 3 deleted" in real.stdout and "longest" in real.stdout
	assert left(marker) == {}


@pytest.mark.worker
def test_retry_queues_matching_failed_jobs_again(worker_factory):
	worker_factory("short")
	marker = uuid.uuid4().hex
	job = async_jobs.enqueue(F + "invalid", {"marker": marker}, queue="short")
	frappe.db.commit()
	failed = wait_for_status(job.name, "Failed")

	out = bench("retry", "--status", "Failed", "--job-type", failed.job_type, "--queue", "short")

	assert out.returncode == 0, out.stderr
	assert "Retried" in out.stdout and job.name in out.stdout
	again = wait_for(lambda: (r := row(job.name)).attempts > failed.attempts and r.status == "Failed" and r)
	assert again.max_attempts > failed.max_attempts
	frappe.cache.delete(f"aj-attempts:{marker}")
