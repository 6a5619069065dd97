"""Batch benchmark: N records of a test DocType processed in chunks of 100, by 1 and by 2 workers, side by side
with the plain fan-out (read every name with frappe.get_all, frappe.enqueue one job per chunk) on 2 workers, and the
tracked batch again on 2 fast workers (`bench async-jobs worker`).

Reports, per run: time and peak Python memory (tracemalloc) of the enqueuing process, time until every record is
processed, and the ratios.
"""

import time
import tracemalloc

import frappe
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import get_queue

import async_jobs
from tests.support import harness

DOCTYPE = "AJ Bench Row"
CHUNK = 100
QUEUE = "long"
WORK = "async_jobs.testing.jobs.mark_rows"


def ensure_rows(count: int) -> None:
	if not frappe.db.exists("DocType", DOCTYPE):
		frappe.get_doc(
			{
				"doctype": "DocType",
				"name": DOCTYPE,
				"module": "Async Jobs",
				"custom": 1,
				"autoname": "hash",
				"fields": [
					{"fieldname": "label", "fieldtype": "Data", "label": "Label"},
					{"fieldname": "processed", "fieldtype": "Check", "label": "Processed"},
				],
				"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1}],
			}
		).insert()
		frappe.db.commit()
	have = frappe.db.count(DOCTYPE)
	if have < count:
		started = time.perf_counter()
		frappe.db.sql(
			f"""INSERT INTO `tab{DOCTYPE}` (name, creation, modified, owner, modified_by, docstatus, label, processed)
			SELECT CONCAT('row-', LPAD(seq, 9, '0')), NOW(), NOW(), 'Administrator', 'Administrator', 0,
				CONCAT('row ', seq), 0
			FROM seq_{have + 1}_to_{count}"""
		)
		frappe.db.commit()
		print(
			f"  inserted {count - have:,} {DOCTYPE} rows in {time.perf_counter() - started:.1f} s", flush=True
		)


def reset() -> None:
	frappe.db.sql(f"UPDATE `tab{DOCTYPE}` SET processed = 0")
	frappe.db.commit()


def measured(fn):
	"""(result, seconds, peak MiB) of fn() in this process."""
	tracemalloc.start()
	started = time.perf_counter()
	result = fn()
	seconds = time.perf_counter() - started
	peak = tracemalloc.get_traced_memory()[1] / 2**20
	tracemalloc.stop()
	return result, seconds, peak


def tracked_fanout():
	batch = async_jobs.enqueue_for_records(WORK, DOCTYPE, chunk_size=CHUNK, background=False, queue=QUEUE)
	frappe.db.commit()
	return batch.name


def plain_fanout():
	names = frappe.get_all(DOCTYPE, pluck="name", order_by="name asc")  # the seed's pattern: the whole list
	for i in range(0, len(names), CHUNK):
		frappe_enqueue(WORK, queue=QUEUE, names=names[i : i + CHUNK])
	frappe.db.commit()


def processed_all(rows: int) -> bool:
	frappe.db.rollback()
	return frappe.db.count(DOCTYPE, {"processed": 1}) >= rows


def run_once(rows: int, workers: int, tracked: bool, kind: str = "bench") -> dict:
	reset()
	get_queue(QUEUE).empty()
	procs = [harness.start_worker(QUEUE, kind=kind) for _ in range(workers)]
	try:
		started = time.perf_counter()
		_, enqueue_seconds, peak = measured(tracked_fanout if tracked else plain_fanout)
		harness.wait_for(
			lambda: processed_all(rows), timeout=3600, interval=0.5, message="every row processed"
		)
		total = time.perf_counter() - started
	finally:
		for proc in procs:
			proc.stop()
	what = "tracked batch" if tracked else "plain fan-out"
	print(
		f"  {what}, {workers} {kind} worker(s): enqueue {enqueue_seconds:.2f} s (peak {peak:.1f} MiB),"
		f" all {rows:,} rows processed in {total:.1f} s = {rows / total:,.0f} rows/s",
		flush=True,
	)
	return {"enqueue": enqueue_seconds, "peak": peak, "total": total}


def batch_throughput(table, rows: int):
	print(f"6. batch: {rows:,} records in chunks of {CHUNK}, 1 and 2 workers", flush=True)
	ensure_rows(rows)
	one = run_once(rows, 1, tracked=True)
	two = run_once(rows, 2, tracked=True)
	plain = run_once(rows, 2, tracked=False)
	fast = run_once(rows, 2, tracked=True, kind="fast")
	table.add("batch: 2 workers vs 1 worker (tracked)", rows / two["total"], rows / one["total"], "rows/s")
	table.add(
		"batch: tracked vs plain fan-out (2 workers)", rows / two["total"], rows / plain["total"], "rows/s"
	)
	table.add(
		"batch on 2 fast workers vs plain fan-out on 2 bench workers",
		rows / fast["total"],
		rows / plain["total"],
		"rows/s",
	)
	table.add(
		"batch enqueue time: keyset vs get_all + frappe.enqueue",
		two["enqueue"],
		plain["enqueue"],
		"s",
		higher_is_better=False,
	)
	table.add(
		"batch enqueue peak memory: keyset vs get_all",
		two["peak"],
		plain["peak"],
		"MiB",
		higher_is_better=False,
	)
	frappe.db.delete("Async Job", {"batch": ["is", "set"]})
	frappe.db.commit()
