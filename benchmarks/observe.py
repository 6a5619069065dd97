"""What observing every job costs: one worker of each kind drains plain no-op `frappe.enqueue` jobs with
observation off, then on (the stager runs in both cases, writing the observed rows in the "on" runs), twice each
in turn; the rate is taken from RQ's own start and end times of the jobs (fast_worker.drain). Also checks that
every job of an "on" run got its ledger row.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m benchmarks.run --only observe
"""

import frappe
from rq.job import Job
from rq.utils import utcformat

from async_jobs.engine.ledger.observed import row_name
from benchmarks import fast_worker
from tests.support import harness

ROUNDS = 2


def _observe(on: bool) -> None:
	settings = frappe.get_single("Async Jobs Settings")
	settings.observe_jobs = int(on)
	settings.save(ignore_permissions=True)
	frappe.db.commit()


def _recorded(ids: list[str]) -> int:
	from frappe.utils.background_jobs import get_redis_conn

	jobs = Job.fetch_many(ids, connection=get_redis_conn())
	names = [row_name(job.id, utcformat(job.enqueued_at)) for job in jobs if job]
	frappe.db.rollback()
	return frappe.db.count("Async Job", {"name": ["in", names], "status": "Finished"})


def _finished(ids: list[str]) -> bool:
	from frappe.utils.background_jobs import get_redis_conn

	jobs = Job.fetch_many(ids, connection=get_redis_conn())
	return all(job and job.get_status(refresh=False) == "finished" for job in jobs)


def drain(kind: str, n: int, start) -> float:
	"""Jobs per second of one worker of this kind draining n queued plain jobs (RQ's own start and end times)."""
	from frappe.utils.background_jobs import get_queue

	get_queue(fast_worker.QUEUE).empty()
	ids = start(n)
	worker = harness.start_worker(fast_worker.QUEUE, kind=kind)
	try:
		harness.wait_for(lambda: _finished(ids), timeout=3600, interval=0.5, message="every job's end")
	finally:
		worker.stop()
	return n / fast_worker.plain_span(ids)


def compare(table, sizes: tuple[int, int]):
	print(f"9. observation on vs off ({sizes[0]} jobs / {sizes[1]} jobs, {ROUNDS} rounds each)", flush=True)
	stager = harness.Process("stager", harness.frappe_cli("async-jobs", "stager", "--interval", "1"))
	ids: list[str] = []

	def start(n: int) -> list[str]:
		ids[:] = fast_worker.plain("add", lambda i: {"a": i, "b": 1})(n)
		return list(ids)

	try:
		for kind, size in zip(fast_worker.KINDS, sizes, strict=True):
			rates = {True: [], False: []}
			for _ in range(ROUNDS):
				for on in (False, True):
					_observe(on)
					rates[on].append(drain(kind, size, start))
					if on:
						harness.wait_for(
							lambda: _recorded(ids) == size, timeout=300, message="every observed row"
						)
			on_rate, off_rate = (sum(rates[x]) / ROUNDS for x in (True, False))
			added_ms = 1000 * (1 / on_rate - 1 / off_rate)
			label = "fast worker" if kind == "fast" else "`bench worker`"
			table.add(f"no-op plain jobs/s, {label}: observation on vs off", on_rate, off_rate, "jobs/s")
			print(f"  {label}: {added_ms:+.2f} ms per job with observation on", flush=True)
	finally:
		_observe(True)
		stager.stop()
