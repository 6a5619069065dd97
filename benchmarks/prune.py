"""Pruning benchmark: async_jobs' batched prune against one unbounded DELETE of the same rows.

For each method the ledger gets `rows` Finished rows 60 days old (plus a few old waiting rows that must stay)
and a writer thread on its own connection inserts a new job every ~20 ms meanwhile, as a busy site does. Printed:
rows deleted per second, the longest single statement, and the writer's worst insert latency (what a long
DELETE's locks and undo cost everyone else)."""

import threading
import time

import frappe
import pymysql

from async_jobs.engine.ops import prune

PREFIX = "pbench-"


def fill(rows: int) -> None:
	"""`rows` old Finished rows and 50 old Queued ones (MariaDB's sequence engine: no Python loop)."""
	started = time.perf_counter()
	frappe.db.sql(
		f"""INSERT INTO `tabAsync Job` (name, creation, modified, owner, modified_by, docstatus, job_type, queue,
			status)
		SELECT CONCAT('{PREFIX}', seq), ts, ts, 'Administrator', 'Administrator', 0, 'pbench', 'short',
			IF(seq <= 50, 'Queued', 'Finished')
		FROM (SELECT seq, NOW() - INTERVAL 60 DAY - INTERVAL seq SECOND AS ts FROM seq_1_to_{rows + 50}) AS s"""
	)
	frappe.db.commit()
	print(f"  inserted {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)


class Writer(threading.Thread):
	"""Inserts one new job row about every 20 ms on its own connection and records each insert's latency."""

	def __init__(self):
		super().__init__(daemon=True)
		conf = frappe.conf
		self.conn = pymysql.connect(
			host=conf.db_host or "127.0.0.1",
			port=int(conf.db_port or 3306),
			user=conf.db_name,
			password=conf.db_password,
			database=conf.db_name,
			autocommit=True,
		)
		self.latencies: list[float] = []
		self.stopping = threading.Event()

	def run(self):
		n = 0
		with self.conn.cursor() as cursor:
			while not self.stopping.is_set():
				n += 1
				started = time.perf_counter()
				cursor.execute(
					"INSERT INTO `tabAsync Job` (name, creation, modified, owner, modified_by, docstatus, job_type,"
					" queue, status) VALUES (%s, NOW(6), NOW(6), 'Administrator', 'Administrator', 0, 'pbench-w',"
					" 'short', 'Queued')",
					(f"{PREFIX}w-{time.time_ns()}-{n}",),
				)
				self.latencies.append(time.perf_counter() - started)
				time.sleep(0.02)
		self.conn.close()

	def stop(self) -> float:
		self.stopping.set()
		self.join()
		return max(self.latencies) if self.latencies else 0.0


def measure(label: str, rows: int, delete) -> tuple[float, float, float]:
	"""(rows/s, longest statement s, worst concurrent insert s) of one method."""
	fill(rows)
	writer = Writer()
	writer.start()
	started = time.perf_counter()
	longest = delete()
	seconds = time.perf_counter() - started
	worst = writer.stop()
	left = frappe.db.sql("SELECT COUNT(*) FROM `tabAsync Job` WHERE job_type = 'pbench'")[0][0]
	assert left == 50, f"{label} left {left} rows (50 waiting ones must stay)"
	print(
		f"  {label}: {rows / seconds:,.0f} rows/s, longest statement {longest * 1000:,.0f} ms,"
		f" worst concurrent insert {worst * 1000:,.0f} ms",
		flush=True,
	)
	cleanup()
	return rows / seconds, longest, worst


def cleanup() -> None:
	while True:
		frappe.db.sql(f"DELETE FROM `tabAsync Job` WHERE name LIKE '{PREFIX}%%' LIMIT 50000")
		deleted = frappe.db._cursor.rowcount
		frappe.db.commit()
		if deleted < 50000:
			return


def batched(batch: int):
	def run() -> float:
		config = frappe._dict(
			finished_retention_days=30,
			failed_retention_days=0,
			cancelled_retention_days=0,
			prune_batch_size=batch,
		)
		return prune.prune(config=config).longest_statement

	return run


def one_delete() -> float:
	started = time.perf_counter()
	frappe.db.sql(
		"DELETE FROM `tabAsync Job` WHERE creation < NOW() - INTERVAL 30 DAY AND status = 'Finished'"
	)
	frappe.db.commit()
	return time.perf_counter() - started


def compare(table, rows: int) -> None:
	print(
		f"6. pruning {rows:,} old rows: batched prune vs one DELETE (a writer inserts meanwhile)", flush=True
	)
	cleanup()
	ours = measure("batched prune (1,000 rows per statement)", rows, batched(1000))
	base = measure("one unbounded DELETE", rows, one_delete)
	table.add("prune: rows/s, batched vs one DELETE", ours[0], base[0], "rows/s")
	table.add("prune: longest statement", ours[1] * 1000, base[1] * 1000, "ms", higher_is_better=False)
	table.add("prune: worst concurrent insert", ours[2] * 1000, base[2] * 1000, "ms", higher_is_better=False)
