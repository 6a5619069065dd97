"""async_jobs benchmarks, each side by side with the baseline it must beat, in one run; prints ratios.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m benchmarks.run [--quick]      (scripts/benchmark does this)

1. enqueue rate      async_jobs.enqueue / enqueue_many vs frappe.enqueue vs raw RQ (loop, and RQ's enqueue_many)
2. no-op jobs/s      the same worker (one `bench worker`) drains plain Frappe jobs, then tracked jobs
3. realistic jobs/s  the same, for a job that inserts a document and commits
4. progress()        1,000,000 calls inside a tracked job, against the same loop without the call
5. queries           the Job Monitor and list queries at 1,000,000 ledger rows (spread over 30 days): p50 / p95
6. batch             100,000 records in chunks of 100 by 1 and 2 workers, and the plain fan-out (benchmarks/batch.py)
7. prune             batched retention pruning vs one unbounded DELETE of 200,000 old rows, a writer inserting meanwhile
8. fast              the fast worker vs `bench worker`: no-op and realistic jobs, plain and tracked (fast_worker.py)
9. budget            where a no-op job's time goes on the fast worker, plain and tracked, from a profile (budget.py)
10. observe          observing every plain job: on vs off, one worker of each kind (observe.py)
11. limits          tracked jobs under a generous concurrency / rate limit vs none: the limiter's cost (limits.py)
"""

import argparse
import os
import sys
import time

import frappe
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import execute_job, get_queue
from rq import Queue

import async_jobs
from benchmarks import fast_worker, limits
from benchmarks import observe as observe_benchmark
from benchmarks import prune as prune_benchmark
from benchmarks.batch import batch_throughput
from benchmarks.budget import budget
from benchmarks.queries import queries, timed
from tests.support import harness

SITE_JOB = "async_jobs.testing.jobs."
QUEUE = "long"


class Table:
	HEAD = ("what", "async_jobs", "baseline", "ratio", "target")

	def __init__(self):
		self.rows: list[tuple[str, str, str, str, str]] = []

	def add(
		self,
		what: str,
		ours: float,
		baseline: float,
		unit: str,
		higher_is_better: bool = True,
		target: float | None = None,
	):
		"""One comparison; `target` is the ratio it must reach (printed with met / missed)."""
		ratio = ours / baseline if higher_is_better else baseline / ours
		goal = f"≥ {target:.2f}× {'met' if ratio >= target else 'MISSED'}" if target else ""
		self.rows.append((what, f"{ours:,.1f} {unit}", f"{baseline:,.1f} {unit}", f"{ratio:.2f}×", goal))
		print(
			f"  {what}: ours {ours:,.1f} {unit}, baseline {baseline:,.1f} {unit}, ratio {ratio:.2f} {goal}",
			flush=True,
		)

	def show(self):
		widths = [max(len(r[i]) for r in [self.HEAD, *self.rows]) for i in range(len(self.HEAD))]
		line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
		print("\n" + line(self.HEAD))
		for row in self.rows:
			print(line(row))


def empty_queue():
	get_queue(QUEUE).empty()


def enqueue_rate(table: Table, n: int):
	print(f"1. enqueue rate ({n} jobs each, no worker)", flush=True)
	q = get_queue(QUEUE)
	empty_queue()

	def plain():
		for i in range(n):
			frappe_enqueue(SITE_JOB + "add", queue=QUEUE, a=i, b=1)

	def raw():
		for _ in range(n):
			q.enqueue_call(
				execute_job, kwargs={"site": frappe.local.site, "method": SITE_JOB + "add", "kwargs": {}}
			)

	def raw_bulk():
		q.enqueue_many(
			[
				Queue.prepare_data(
					execute_job, kwargs={"site": frappe.local.site, "method": SITE_JOB + "add"}
				)
				for _ in range(n)
			]
		)

	names = []

	def tracked():
		for i in range(n):
			names.append(async_jobs.enqueue(SITE_JOB + "add", {"a": i, "b": 1}, queue=QUEUE).name)
			if i % 500 == 499:
				frappe.db.commit()
		frappe.db.commit()

	def tracked_bulk():
		for start in range(0, n, 500):
			names.extend(
				async_jobs.enqueue_many(
					SITE_JOB + "add",
					({"a": i, "b": 1} for i in range(start, min(n, start + 500))),
					queue=QUEUE,
				)
			)
			frappe.db.commit()

	t_plain, t_raw, t_bulk = timed(plain), timed(raw), timed(raw_bulk)
	t_tracked = timed(tracked)
	t_tracked_bulk = timed(tracked_bulk)
	empty_queue()
	frappe.db.delete("Async Job", {"name": ["in", names]})
	frappe.db.commit()
	table.add("enqueue: tracked vs frappe.enqueue", n / t_tracked, n / t_plain, "jobs/s", target=0.67)
	table.add("enqueue: tracked vs raw RQ loop", n / t_tracked, n / t_raw, "jobs/s")
	table.add("enqueue: tracked vs raw RQ enqueue_many", n / t_tracked, n / t_bulk, "jobs/s")
	table.add("enqueue: tracked enqueue_many vs frappe.enqueue", n / t_tracked_bulk, n / t_plain, "jobs/s")
	table.add(
		"enqueue: tracked enqueue_many vs raw RQ enqueue_many", n / t_tracked_bulk, n / t_bulk, "jobs/s"
	)


def drain(n: int, start_plain, start_tracked) -> tuple[float, float]:
	"""Time one worker draining n plain jobs, then n tracked jobs."""
	empty_queue()
	worker = harness.start_worker(QUEUE)
	try:
		q = get_queue(QUEUE)
		started = time.perf_counter()
		start_plain(n)
		harness.wait_for(
			lambda: q.count == 0 and not q.started_job_registry.count, timeout=1800, interval=0.05
		)
		plain = time.perf_counter() - started
		started = time.perf_counter()
		names = start_tracked(n)
		harness.wait_for(
			lambda: (
				frappe.db.rollback()
				or frappe.db.count("Async Job", {"name": ["in", names], "status": "Finished"}) == n
			),
			timeout=1800,
			interval=0.1,
		)
		tracked = time.perf_counter() - started
		frappe.db.delete("Async Job", {"name": ["in", names]})
		frappe.db.commit()
		return plain, tracked
	finally:
		worker.stop()


def throughput(table: Table, n: int):
	print(f"2. no-op jobs through one bench worker ({n} each)", flush=True)

	def plain(count):
		for i in range(count):
			frappe_enqueue(SITE_JOB + "add", queue=QUEUE, a=i, b=1)
		frappe.db.commit()

	def tracked(count):
		names = [
			async_jobs.enqueue(SITE_JOB + "add", {"a": i, "b": 1}, queue=QUEUE).name for i in range(count)
		]
		frappe.db.commit()
		return names

	t_plain, t_tracked = drain(n, plain, tracked)
	table.add("no-op jobs/s per worker: tracked vs plain", n / t_tracked, n / t_plain, "jobs/s")

	print(f"3. realistic jobs (insert a ToDo and commit) through one bench worker ({n} each)", flush=True)

	def plain_real(count):
		for i in range(count):
			frappe_enqueue(SITE_JOB + "record_marker", queue=QUEUE, marker=f"bench-plain-{i}")
		frappe.db.commit()

	def tracked_real(count):
		names = [
			async_jobs.enqueue(SITE_JOB + "record_marker", {"marker": f"bench-tracked-{i}"}, queue=QUEUE).name
			for i in range(count)
		]
		frappe.db.commit()
		return names

	t_plain, t_tracked = drain(n, plain_real, tracked_real)
	frappe.db.delete("ToDo", {"description": ["like", "bench-%"]})
	frappe.db.commit()
	table.add("realistic jobs/s per worker: tracked vs plain", n / t_tracked, n / t_plain, "jobs/s")


def progress_cost(table: Table, calls: int):
	print(f"4. progress() cost: {calls:,} calls inside a tracked job", flush=True)
	worker = harness.start_worker(QUEUE)
	try:
		with_calls = async_jobs.enqueue(
			SITE_JOB + "progress_loop", {"calls": calls}, queue=QUEUE, timeout=600
		)
		bare = async_jobs.enqueue(SITE_JOB + "bare_loop", {"calls": calls}, queue=QUEUE, timeout=600)
		frappe.db.commit()
		results = {}
		for job in (with_calls, bare):
			results[job.name] = harness.wait_for(
				lambda name=job.name: (
					frappe.db.rollback()
					or frappe.db.get_value("Async Job", {"name": name, "status": "Finished"}, "result")
				),
				timeout=600,
				interval=0.2,
			)
		seconds = float(results[with_calls.name])
		baseline = float(results[bare.name])
		print(f"  {calls:,} progress() calls took {seconds:.3f} s (the bare loop {baseline:.3f} s)")
		table.add(
			f"{calls:,} progress() calls: seconds", seconds, max(baseline, 1e-9), "s", higher_is_better=False
		)
	finally:
		worker.stop()


def main():
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
	parser.add_argument(
		"--only",
		nargs="*",
		default=[
			"enqueue",
			"throughput",
			"progress",
			"queries",
			"batch",
			"prune",
			"fast",
			"budget",
			"observe",
			"limits",
		],
	)
	args = parser.parse_args()
	os.chdir(harness.SITES)  # Frappe's loggers write to ../logs from the sites folder, as under bench
	frappe.init(site=harness.SITE, sites_path=str(harness.SITES))
	frappe.connect()
	frappe.set_user("Administrator")
	table = Table()
	sizes = (
		{
			"enqueue": 300,
			"throughput": 60,
			"progress": 100_000,
			"queries": 20_000,
			"batch": 5_000,
			"prune": 20_000,
			"fast": (60, 600),
			"budget": 200,
			"observe": (60, 600),
			"limits": 300,
		}
		if args.quick
		else {
			"enqueue": 3000,
			"throughput": 300,
			"progress": 1_000_000,
			"queries": 1_000_000,
			"batch": 100_000,
			"prune": 200_000,
			"fast": (300, 3000),
			"budget": 1000,
			"observe": (300, 3000),
			"limits": 2000,
		}
	)
	steps = {
		"enqueue": enqueue_rate,
		"throughput": throughput,
		"progress": progress_cost,
		"queries": queries,
		"batch": batch_throughput,
		"prune": prune_benchmark.compare,
		"fast": fast_worker.compare,
		"budget": budget,
		"observe": observe_benchmark.compare,
		"limits": limits.compare,
	}
	for name in args.only:
		steps[name](table, sizes[name])
	table.show()
	frappe.destroy()


if __name__ == "__main__":
	sys.exit(main())
