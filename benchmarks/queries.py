"""Benchmark 5: the Job Monitor and list queries at many ledger rows (spread over 30 days), p50 / p95."""

import statistics
import time

import frappe

from async_jobs.engine.views import dashboard, jobs
from tests.support import world


def timed(fn) -> float:
	started = time.perf_counter()
	fn()
	return time.perf_counter() - started


def queries(table, rows: int):
	print(f"5. Job Monitor and list queries at {rows:,} ledger rows", flush=True)
	existing = frappe.db.count("Async Job", {"name": ["like", "bench-%"]})
	if existing < rows:
		fill(rows - existing, start=existing)
	samples: dict[str, list[float]] = {}

	def measure(label, fn, repeat=30):
		fn()  # warm
		samples[label] = [timed(fn) * 1000 for _ in range(repeat)]

	frappe.set_user(world.MANAGER)
	measure("monitor (manager, everything)", lambda: dashboard.overview({}))
	measure("list: newest 20 of all", lambda: jobs.list_jobs(jobs.visible_filters(), 20))
	measure("list: failed, newest 20", lambda: jobs.list_jobs(jobs.visible_filters(status="Failed"), 20))
	frappe.set_user(world.OWNER)
	measure("monitor (a user's own jobs)", lambda: dashboard.overview({}))
	measure("list: a user's newest 20", lambda: jobs.list_jobs(jobs.visible_filters(), 20))
	frappe.set_user("Administrator")
	remove_filler()
	for label, values in samples.items():
		values.sort()
		p50, p95 = statistics.median(values), values[int(len(values) * 0.95) - 1]
		table.rows.append(
			(f"{label} at {rows:,} rows", f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms", "target p95 < 50 ms")
		)
		print(f"  {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)


def remove_filler():
	"""Delete the generated rows in chunks (short statements, no long lock)."""
	started = time.perf_counter()
	while True:
		frappe.db.sql("DELETE FROM `tabAsync Job` WHERE name LIKE 'bench-%%' LIMIT 50000")
		deleted = frappe.db._cursor.rowcount
		frappe.db.commit()
		if deleted < 50000:
			break
	print(f"  removed the generated rows in {time.perf_counter() - started:.1f} s", flush=True)


def fill(count: int, start: int = 0):
	"""Bulk-insert `count` ledger rows spread over 30 days (MariaDB's sequence engine: no Python loop)."""
	started = time.perf_counter()
	frappe.db.sql(
		f"""INSERT INTO `tabAsync Job` (name, creation, modified, owner, modified_by, docstatus, job_type, method,
			queue, status, notify, queued_at, started_at, ended_at, wait_seconds, run_seconds, attempts, max_attempts,
			progress_percent)
		SELECT CONCAT('bench-', seq), ts, ts, ELT(1 + MOD(seq, 4), %(a)s, %(b)s, %(c)s, 'Administrator'), 'Administrator', 0,
			ELT(1 + MOD(seq, 5), 'sync-orders', 'send-mail', 'rebuild-ledger', 'import', 'report'), 'bench.method',
			ELT(1 + MOD(seq, 3), 'short', 'default', 'long'),
			ELT(1 + MOD(seq, 20), 'Failed', 'Dead', 'Timed Out', 'Cancelled', 'Finished', 'Finished', 'Finished',
				'Finished', 'Finished', 'Finished', 'Finished', 'Finished', 'Finished', 'Finished', 'Finished',
				'Finished', 'Finished', 'Finished', 'Finished', 'Finished'),
			'On Failure', ts, ts + INTERVAL 1 SECOND, ts + INTERVAL 3 SECOND, MOD(seq, 7) / 3.0, MOD(seq, 11) / 2.0, 1, 1, 100
		FROM (SELECT seq, NOW() - INTERVAL (seq * 2592000 / {count + start}) SECOND AS ts
			FROM seq_{start + 1}_to_{start + count}) AS s""",
		{"a": world.OWNER, "b": world.OTHER, "c": world.MANAGER},
	)
	frappe.db.commit()
	print(f"  inserted {count:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
