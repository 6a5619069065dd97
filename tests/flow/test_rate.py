"""Rate limits on real workers: 50 jobs at 5/s on 3 workers start at most 5 in any second (from the jobs' own
recorded starts), all finish, and take about 10 s; a refused start waits Scheduled, with its reason."""

from datetime import timedelta

import frappe
import pytest

import async_jobs
from tests.support.harness import wait_for

pytestmark = pytest.mark.worker

F = "async_jobs.testing.jobs."


def test_fifty_jobs_at_five_a_second_never_start_more_than_five_in_a_second(
	worker_factory, stager, empty_queues
):
	for _ in range(3):
		worker_factory("short")
	names = [
		async_jobs.enqueue(
			F + "limited", {"company": "ACME", "seconds": 0.05}, queue="short", rate_limit="5/s"
		).name
		for _ in range(50)
	]
	frappe.db.commit()

	def done():
		frappe.db.rollback()
		rows = frappe.get_all(
			"Async Job", filters={"name": ["in", names]}, fields=["status", "started_at", "rate_limit"]
		)
		return rows if all(r.status == "Finished" for r in rows) else None

	rows = wait_for(done, timeout=240, interval=0.5, message="the 50 jobs to finish")
	starts = sorted(r.started_at for r in rows)
	assert {r.rate_limit for r in rows} == {"5/1s"}
	for i, start in enumerate(starts):
		within = [s for s in starts[i:] if s < start + timedelta(seconds=1)]
		assert len(within) <= 5, f"{len(within)} starts in the second from {start}"
	span = (starts[-1] - starts[0]).total_seconds()
	assert span >= 8.9, f"50 starts at 5/s took only {span:.1f} s"
	print(f"\n50 jobs at 5/s on 3 workers: starts spread over {span:.1f} s")
