"""Baselines for the fast worker's plain path, run as processes of their own from the sites folder:

	python -m benchmarks.simple_worker worker QUEUE     RQ's own SimpleWorker (jobs in the worker process, no fork)
	                                                     on Frappe's queue QUEUE, until stopped
	python -m benchmarks.simple_worker loop N           Frappe's execute_job alone, N no-op jobs back to back in one
	                                                     process (no RQ at all); prints "<jobs/s>"

benchmarks/fast_worker.py starts them (PYTHONPATH: the app's folder, for this package).
"""

import sys
import time

import frappe
from frappe.utils.background_jobs import execute_job, get_queue_list, get_redis_conn
from rq import SimpleWorker

JOB = "async_jobs.testing.jobs.add"


def worker(queue: str) -> None:
	with frappe.init_site():
		connection = get_redis_conn()
		queues = get_queue_list(queue, build_queue_name=True)
	SimpleWorker(queues, connection=connection).work(logging_level="WARNING", with_scheduler=False)


def loop(site: str, n: int) -> float:
	"""execute_job as a work horse calls it, n times: site init, connect, the job, commit, destroy."""
	start = time.perf_counter()
	for i in range(n):
		execute_job(site, JOB, None, JOB, {"a": i, "b": 1}, user="Administrator", is_async=True)
	return n / (time.perf_counter() - start)


if __name__ == "__main__":
	if sys.argv[1] == "worker":
		worker(sys.argv[2])
	else:
		print(f"{loop(sys.argv[3], int(sys.argv[2])):.1f}")
