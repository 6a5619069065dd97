"""Ledger statistics for the digest and the monthly report: counts by status and type, top failures and time
percentiles over a period of creation (the (creation, status) index bounds every query)."""

import math
from datetime import datetime

import frappe

from async_jobs.engine.ledger.status import FAILED_END_VALUES, JobStatus

FAILED = FAILED_END_VALUES
PERCENTILES = (50, 95, 99)
PERIOD = "creation >= %(start)s AND creation < %(end)s"


def by_status(start: datetime, end: datetime) -> dict[str, int]:
	rows = frappe.db.sql(
		f"SELECT status, COUNT(*) FROM `tabAsync Job` WHERE {PERIOD} GROUP BY status ORDER BY COUNT(*) DESC",
		{"start": start, "end": end},
	)
	return {status: count for status, count in rows}


def by_kind(start: datetime, end: datetime) -> dict[str, dict[str, int]]:
	"""Jobs and failed jobs per kind: Tracked (started through async_jobs) and Observed (the site's other jobs)."""
	rows = frappe.db.sql(
		f"""SELECT COALESCE(kind, 'Tracked') AS kind, COUNT(*) AS total, SUM(status IN %(failed)s) AS failed
		FROM `tabAsync Job` WHERE {PERIOD} GROUP BY COALESCE(kind, 'Tracked')""",
		{"start": start, "end": end, "failed": FAILED},
		as_dict=True,
	)
	counts = {kind: {"total": 0, "failed": 0} for kind in ("Tracked", "Observed")}
	for row in rows:
		counts[row.kind] = {"total": int(row.total), "failed": int(row.failed or 0)}
	return counts


def by_type(start: datetime, end: datetime) -> list[dict]:
	"""One row per job type: total, finished, failed (failed, timed out, dead, lost), other; busiest first."""
	rows = frappe.db.sql(
		f"""SELECT job_type, COUNT(*) AS total,
			SUM(status = 'Finished') AS finished, SUM(status IN %(failed)s) AS failed
		FROM `tabAsync Job` WHERE {PERIOD} GROUP BY job_type ORDER BY total DESC, job_type""",
		{"start": start, "end": end, "failed": FAILED},
		as_dict=True,
	)
	for row in rows:
		row.finished, row.failed = int(row.finished or 0), int(row.failed or 0)
		row.other = row.total - row.finished - row.failed
	return rows


def top_failures(start: datetime, end: datetime, limit: int = 10) -> list[dict]:
	"""The most frequent (job type, error) pairs among failed jobs; the error is its first line."""
	rows = frappe.db.sql(
		f"""SELECT job_type, SUBSTRING_INDEX(COALESCE(error, ''), '\\n', 1) AS error, COUNT(*) AS count,
			MAX(creation) AS last_seen
		FROM `tabAsync Job` WHERE {PERIOD} AND status IN %(failed)s
		GROUP BY job_type, SUBSTRING_INDEX(COALESCE(error, ''), '\\n', 1)
		ORDER BY count DESC, last_seen DESC LIMIT {int(limit)}""",
		{"start": start, "end": end, "failed": FAILED},
		as_dict=True,
	)
	for row in rows:
		row.error = (row.error or "")[:200]
	return rows


def nearest_rank(count: int, percentile: float) -> int:
	"""The 0-based position of the `percentile` value among `count` sorted values (nearest-rank method)."""
	return max(math.ceil(percentile / 100 * count) - 1, 0)


MEASURED = {  # a job has a wait time once it started, a run time once it ended after starting
	"wait_seconds": "started_at IS NOT NULL",
	"run_seconds": "started_at IS NOT NULL AND ended_at IS NOT NULL",
}


def percentiles(column: str, start: datetime, end: datetime) -> dict[int, float | None]:
	"""p50/p95/p99 of wait_seconds or run_seconds: one ordered LIMIT 1 OFFSET k per percentile, no row transfer."""
	where = f"{PERIOD} AND {MEASURED[column]}"
	values = {"start": start, "end": end}
	count = frappe.db.sql(f"SELECT COUNT(*) FROM `tabAsync Job` WHERE {where}", values)[0][0]
	found = {}
	for p in PERCENTILES:
		if not count:
			found[p] = None
			continue
		offset = nearest_rank(count, p)
		found[p] = frappe.db.sql(
			f"SELECT {column} FROM `tabAsync Job` WHERE {where} ORDER BY {column} LIMIT 1 OFFSET {offset}",
			values,
		)[0][0]
	return found
