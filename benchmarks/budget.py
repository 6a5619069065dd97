"""Where a job's time goes on the fast worker: a per-job budget from a profile of its child, plain and tracked.

One fast worker drains n no-op jobs of each kind with its child under cProfile (ASYNC_JOBS_FAST_WORKER_PROFILE);
the child's stats are split into µs per job:

- total          the child's perform() of one job: RQ's bookkeeping and the job (the wait for the next job excluded)
- RQ bookkeeping perform_job minus the job itself: RQ's status, registries, result, heartbeats (Redis included)
- Frappe init    frappe.init + frappe.connect in execute_job (connections come from the child's pool)
- Frappe destroy frappe.destroy (the connection goes back to the pool: a ROLLBACK)
- executor       async_jobs' executor around the job's function (tracked jobs only; its MariaDB and Redis included)
- MariaDB I/O    every round trip to MariaDB, wherever it was made (pymysql's packet reads and writes)
- Redis I/O      every round trip to Redis, wherever it was made (redis-py's sends and reads)

The profile's own overhead makes every number larger than in an unprofiled run; the split is what it is for.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m benchmarks.run --only budget   (scripts/benchmark --only budget)
"""

import glob
import os
import pstats
import tempfile

import frappe

from async_jobs.engine.run.fast.child import PROFILE_VARIABLE
from benchmarks import fast_worker

# (file ending, function) pairs whose inclusive time makes up each part; none of a part's pairs nests in another.
PARTS = {
	"total": [("rq/worker.py", "perform_job")],
	"job": [("rq/job.py", "perform")],
	"Frappe init": [("frappe/__init__.py", "init"), ("frappe/__init__.py", "connect")],
	"Frappe destroy": [("frappe/__init__.py", "destroy")],
	"executor": [("async_jobs/engine/run/executor.py", "run")],
	"MariaDB I/O": [("pymysql/connections.py", "_read_packet"), ("pymysql/connections.py", "_write_bytes")],
	"Redis I/O": [("redis/connection.py", "send_packed_command"), ("redis/connection.py", "read_response")],
}
ROWS = ("total", "RQ bookkeeping", "Frappe init", "Frappe destroy", "executor", "MariaDB I/O", "Redis I/O")


def inclusive(stats: pstats.Stats, pairs) -> float:
	"""Seconds spent in the functions `pairs` names, callees included (cumulative time). Where one pair matches
	several functions (redis-py's connection and its parser both have read_response, one calling the other), the
	outermost one (the largest time) counts."""
	seconds = 0.0
	for end, name in pairs:
		seconds += max(
			(
				cumulative
				for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items()
				if filename.endswith(end) and function == name
			),
			default=0.0,
		)
	return seconds


def profile(kind_label: str, start, is_tracked: bool, n: int) -> dict[str, float]:
	"""µs per job of each part, for one fast worker draining n jobs that `start` enqueues."""
	folder = tempfile.mkdtemp(prefix="aj-budget-")
	os.chmod(folder, 0o777)
	os.environ[PROFILE_VARIABLE] = f"{folder}/child"
	try:
		fast_worker.drain("fast", n, start, is_tracked)
	finally:
		del os.environ[PROFILE_VARIABLE]
	files = glob.glob(f"{folder}/child.*")
	assert files, f"the fast worker's child wrote no profile for {kind_label}"
	stats = pstats.Stats(*files)
	parts = {part: inclusive(stats, pairs) * 1e6 / n for part, pairs in PARTS.items()}
	parts["RQ bookkeeping"] = parts["total"] - parts.pop("job")
	return parts


def budget(table, n: int):
	print(f"7. per-job budget on the fast worker, from a profile ({n} no-op jobs per kind)", flush=True)
	kinds = {
		"plain": profile("plain", fast_worker.plain("add", lambda i: {"a": i, "b": 1}), False, n),
		"tracked": profile("tracked", fast_worker.tracked("add", lambda i: {"a": i, "b": 1}), True, n),
	}
	print(f"  {'µs per job (profiled)':<22} {'plain':>10} {'tracked':>10}")
	for row in ROWS:
		print(f"  {row:<22} {kinds['plain'][row]:>10,.0f} {kinds['tracked'][row]:>10,.0f}")
	table.add(
		"profiled µs per no-op job on the fast worker: tracked vs plain",
		kinds["tracked"]["total"],
		kinds["plain"]["total"],
		"µs",
		higher_is_better=False,
	)
	frappe.db.commit()
