"""The flow-control limiter's own cost: tracked no-op jobs under a generous limit (one that never holds a job
back) against the same jobs without one, drained by one fast worker (the kind whose per-job cost is smallest, so
the limiter's share shows most), side by side in one run. The rate is taken from the jobs' own start and end times.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m benchmarks.run --only limits      (scripts/benchmark --only limits)
"""

import frappe

import async_jobs
from benchmarks.fast_worker import drain

JOB = "async_jobs.testing.jobs.add"
QUEUE = "long"
CASES = {
	"no limit": {},
	"concurrency_limit=10000 per key": {"concurrency_limit": 10_000, "concurrency_key": "a"},
	"rate_limit=1000000/s": {"rate_limit": "1000000/s"},
	"both": {"concurrency_limit": 10_000, "rate_limit": "1000000/s"},
}


def tracked(options: dict):
	def start(n: int) -> list[str]:
		names = [
			async_jobs.enqueue(JOB, {"a": i % 10, "b": 1}, queue=QUEUE, **options).name for i in range(n)
		]
		frappe.db.commit()
		return names

	return start


def compare(table, n: int):
	print(f"9. the limiter's cost: {n} tracked no-op jobs on one fast worker, per case", flush=True)
	# Each limited case right after a run without limits, so that a change of load shows in its own ratio.
	rates, baseline = {}, {}
	for label, options in list(CASES.items())[1:]:
		baseline[label] = drain("fast", n, tracked({}), True)
		rates[label] = drain("fast", n, tracked(options), True)
	for label in rates:
		table.add(f"tracked no-op jobs/s, {label} vs no limit", rates[label], baseline[label], "jobs/s")
