"""The fast worker against `bench worker`, side by side in one run: jobs per second of one worker process.

For each kind of job the queue is filled first, then one worker drains it; the rate is jobs / (last end - first
start) from the jobs' own timestamps (RQ's for plain jobs, the ledger's for tracked jobs), so neither the
enqueueing nor the worker's start-up is counted, only the work horse or child doing jobs back to back.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m benchmarks.run --only fast      (scripts/benchmark --only fast)
"""

import socket
import subprocess
import sys

import frappe
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import get_queue, get_redis_conn
from rq import Worker
from rq.job import Job

import async_jobs
from tests.support import harness

JOB = "async_jobs.testing.jobs."
QUEUE = "long"
KINDS = ("bench", "fast")


def plain(method: str, kwargs_of):
	def start(n: int) -> list[str]:
		ids = [frappe_enqueue(JOB + method, queue=QUEUE, **kwargs_of(i)).id for i in range(n)]
		frappe.db.commit()
		return ids

	return start


def tracked(method: str, kwargs_of):
	def start(n: int) -> list[str]:
		names = [async_jobs.enqueue(JOB + method, kwargs_of(i), queue=QUEUE).name for i in range(n)]
		frappe.db.commit()
		return names

	return start


def plain_span(ids: list[str]) -> float:
	jobs = [job for job in Job.fetch_many(ids, connection=get_redis_conn()) if job]
	assert len(jobs) == len(ids) and all(job.get_status(refresh=False) == "finished" for job in jobs), (
		"every job must have finished"
	)
	return (max(job.ended_at for job in jobs) - min(job.started_at for job in jobs)).total_seconds()


def tracked_span(names: list[str]) -> float:
	first, last, finished = frappe.db.sql(
		"""SELECT MIN(started_at), MAX(ended_at), SUM(status = 'Finished') FROM `tabAsync Job`
		WHERE name IN %s""",
		(names,),
	)[0]
	assert finished == len(names), f"{finished} of {len(names)} tracked jobs finished"
	return (last - first).total_seconds()


def start_simple_worker() -> harness.Process:
	"""RQ's SimpleWorker on the queue (benchmarks/simple_worker.py), once RQ lists it."""
	proc = harness.Process(
		"simple-worker",
		[sys.executable, "-m", "benchmarks.simple_worker", "worker", QUEUE],
		PYTHONPATH=str(harness.APP_ROOT),
	)
	here = socket.gethostname()
	harness.wait_for(
		lambda: (
			proc.check()
			or any((w.hostname, w.pid) == (here, proc.pid) for w in Worker.all(connection=get_redis_conn()))
		),
		timeout=60,
		message="RQ's SimpleWorker to register",
	)
	return proc


def execute_job_loop(n: int) -> float:
	"""Jobs per second of Frappe's execute_job alone in a loop, in a process of its own."""
	out = subprocess.run(
		[sys.executable, "-m", "benchmarks.simple_worker", "loop", str(n), frappe.local.site],
		cwd=harness.SITES,
		env={**harness._child_env(), "PYTHONPATH": str(harness.APP_ROOT)},
		capture_output=True,
		text=True,
		check=True,
	)
	return float(out.stdout.strip().splitlines()[-1])


def drain(kind: str, n: int, start, is_tracked: bool) -> float:
	"""Jobs per second of one worker of this kind (bench, fast, or simple: RQ's SimpleWorker) draining n queued
	jobs."""
	get_queue(QUEUE).empty()
	keys = start(n)
	worker = start_simple_worker() if kind == "simple" else harness.start_worker(QUEUE, kind=kind)
	try:
		if is_tracked:
			harness.wait_for(
				lambda: (
					frappe.db.rollback()
					or frappe.db.count("Async Job", {"name": ["in", keys], "status": "Finished"}) == n
				),
				timeout=3600,
				interval=0.2,
			)
		else:
			q = get_queue(QUEUE)
			harness.wait_for(
				lambda: q.count == 0 and not q.started_job_registry.count, timeout=3600, interval=0.05
			)
	finally:
		worker.stop()
	span = tracked_span(keys) if is_tracked else plain_span(keys)
	if is_tracked:
		frappe.db.delete("Async Job", {"name": ["in", keys]})
		frappe.db.commit()
	return n / span


def compare(table, sizes: tuple[int, int]):
	"""sizes: (jobs for bench worker, jobs for the fast worker) per kind of job."""
	cases = [
		("no-op plain jobs (frappe.enqueue)", plain("add", lambda i: {"a": i, "b": 1}), False),
		("no-op tracked jobs (async_jobs.enqueue)", tracked("add", lambda i: {"a": i, "b": 1}), True),
		(
			"realistic plain jobs (insert a ToDo, commit)",
			plain("record_marker", lambda i: {"marker": f"bench-fast-{i}"}),
			False,
		),
		(
			"realistic tracked jobs (insert a ToDo, commit)",
			tracked("record_marker", lambda i: {"marker": f"bench-fast-t-{i}"}),
			True,
		),
	]
	print(f"6. fast worker vs bench worker ({sizes[0]} jobs / {sizes[1]} jobs per case)", flush=True)
	rates = {}
	for label, start, is_tracked in cases:
		rates[label] = {
			kind: drain(kind, size, start, is_tracked) for kind, size in zip(KINDS, sizes, strict=True)
		}
		table.add(
			f"{label}/s per worker: fast vs bench worker",
			rates[label]["fast"],
			rates[label]["bench"],
			"jobs/s",
		)
	plain_noop, tracked_noop = (rates[label]["fast"] for label, _, _ in cases[:2])
	table.add(
		"no-op jobs/s on the fast worker: tracked vs plain", tracked_noop, plain_noop, "jobs/s", target=0.6
	)
	simple = drain("simple", sizes[1], cases[0][1], False)
	table.add(
		"plain no-op jobs/s: fast worker vs RQ's SimpleWorker", plain_noop, simple, "jobs/s", target=1.5
	)
	table.add(
		"plain no-op jobs/s: fast worker vs execute_job alone in a loop",
		plain_noop,
		execute_job_loop(sizes[1]),
		"jobs/s",
		target=0.6,
	)
	frappe.db.delete("ToDo", {"description": ["like", "bench-fast-%"]})
	frappe.db.commit()
