"""A concurrency limit of 1 holds across hosts: workers on two hosts (namespaces of their own, one Redis and one
MariaDB) take the jobs of one key in turn, never two at once."""

import itertools

import frappe
import pytest

import async_jobs
from tests.support.checks import wait_for_status
from tests.support.hosts import worker_host

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_a_limit_of_one_holds_with_workers_on_two_hosts(empty_queues):
	hosts = [worker_host(label, "fast", "short", workers=2) for label in ("a", "b")]
	try:
		names = [
			async_jobs.enqueue(
				"async_jobs.testing.jobs.limited",
				{"company": "ACME", "seconds": 0.3},
				queue="short",
				concurrency_limit=1,
				concurrency_key="company",
			).name
			for _ in range(16)
		]
		frappe.db.commit()
		runs = sorted(
			(wait_for_status(n, "Finished", timeout=180) for n in names), key=lambda r: r.started_at
		)
		where = {w.name: host.hostname for host in hosts for w in host.workers(alive_only=False)}
	finally:
		for host in hosts:
			host.stop()
	for earlier, later in itertools.pairwise(runs):
		assert later.started_at >= earlier.ended_at, f"{earlier.name} and {later.name} ran at once"
	assert {where.get(r.worker) for r in runs} == {h.hostname for h in hosts}, (
		"the jobs did not run on both hosts"
	)
