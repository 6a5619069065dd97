"""Data for the Job Monitor page: live jobs, why waiting jobs wait, failures, queue cards and charts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_system_timezone, now_datetime
from frappe.utils.background_jobs import generate_qname, get_queue, get_queues_timeout, get_redis_conn
from frappe.utils.scheduler import is_scheduler_inactive

from async_jobs.engine.batches.view import list_active
from async_jobs.engine.ledger.status import HELD_BY_LIMIT, WAITING, JobStatus
from async_jobs.engine.run.held import concurrency_group
from async_jobs.engine.submit import permissions
from async_jobs.engine.transport import limits
from async_jobs.engine.transport import pause as queue_pause
from async_jobs.engine.transport import workers as rq_workers
from async_jobs.engine.transport.delayed import STAGER_KEY
from async_jobs.engine.views import jobs
from async_jobs.engine.views.waiting import Context, FlowFacts, QueueFacts, why_waiting

FAILED = [
	JobStatus.FAILED.value,
	JobStatus.TIMED_OUT.value,
	JobStatus.DEAD.value,
	JobStatus.LOST.value,
	JobStatus.EXPIRED.value,
]
FLOW_FIELDS = ["held_by", "concurrency_limit", "concurrency_key", "rate_limit", "rate_key"]
LIMITS = {"running": 50, "waiting": 50, "failed": 15, "recent": 15}
PERCENTILE_SAMPLE = 5000  # the newest finished jobs of the period
CHARTS_CACHE_SECONDS = 30  # aggregates over a day need not be fresher than this


def overview(filters: dict, since_hours: int = 24) -> dict:
	"""Everything the page shows, for the jobs the session user may see."""
	base = jobs.visible_filters(**filters)
	since = now_datetime() - timedelta(hours=since_hours)
	manager = permissions.is_manager()
	queues = queue_facts() if manager else {}
	paused = queue_pause.paused(get_redis_conn()) if manager else {}
	ended = [s.value for s in JobStatus if s not in WAITING and s != JobStatus.STARTED]
	return {
		"running": where_running(_jobs(base, "running", [JobStatus.STARTED.value])),
		"waiting": explain(_jobs(base, "waiting", [s.value for s in WAITING], extra=FLOW_FIELDS), queues),
		"failed": _jobs(base, "failed", FAILED, since, extra=["traceback", "error_log"]),
		"recent": _jobs(base, "recent", ended, since),
		"batches": list_active(),
		"queues": [
			{"queue": q, **vars(f), "oldest_wait": oldest_wait(q), **pause_facts(paused, q)}
			for q, f in queues.items()
		],
		"charts": charts({k: v for k, v in base.items() if k != "status"}, since),
		"is_manager": manager,
	}


def where_running(rows: list[dict]) -> list[dict]:
	"""Add `worker_where` to running jobs: the host and pid of their worker (pids repeat across hosts; the RQ
	name in `worker` tells workers apart), marked gone when RQ still lists a worker that no longer runs."""
	if rows:
		workers = {w.name: w for w in rq_workers.gather(get_redis_conn())}
		for row in rows:
			w = workers.get(row.worker)
			row["worker_where"] = (w.where if w.alive else _("{0}, gone").format(w.where)) if w else ""
	return rows


def _jobs(
	base: dict, section: str, statuses: list[str], since=None, extra: list[str] | None = None
) -> list[dict]:
	"""A section's jobs: its statuses, narrowed to the status filter if one was given (none if it excludes them)."""
	wanted = base.get("status")
	if wanted and wanted not in statuses:
		return []
	statuses = [wanted] if wanted else statuses
	fields = [*jobs.SUMMARY_FIELDS, "worker", *(extra or [])]
	if since:
		return _newest(base, statuses, since, fields, LIMITS[section])
	return frappe.get_all(  # running and waiting jobs: few rows, found through the status index
		"Async Job",
		filters={**base, "status": ["in", statuses]},
		fields=fields,
		order_by="creation desc",
		limit_page_length=LIMITS[section],
	)


def _newest(base: dict, statuses: list[str], since, fields: list[str], limit: int) -> list[dict]:
	"""The newest ended jobs of the period: walk the rows backwards from now on an index that starts with creation
	(or owner, creation) and stop at `limit`. Left to itself MariaDB may pick the status index instead and sort
	the period's rows of those statuses (the monitor's p95 at 1,000,000 rows: 51.7 ms that way, 48.5 ms this way)."""
	conditions, values = _where({k: v for k, v in base.items() if k != "status"}, since)
	return frappe.db.sql(
		f"""SELECT {", ".join(f"`{f}`" for f in fields)}
		FROM `tabAsync Job` USE INDEX (owner_creation_index, creation_status_index)
		WHERE {conditions} AND status IN %(statuses)s ORDER BY creation DESC LIMIT {int(limit)}""",
		{**values, "statuses": tuple(statuses)},
		as_dict=True,
	)


def queue_facts() -> dict[str, QueueFacts]:
	facts = {}
	for name in get_queues_timeout():
		queue = get_queue(name)
		workers = rq_workers.alive(queue.connection, queue)
		busy = sum(1 for w in workers if w.state == "busy")
		facts[name] = QueueFacts(workers=len(workers), busy=busy, depth=queue.count)
	return facts


def pause_facts(paused: dict, queue: str) -> dict:
	"""`paused`, and since when and by whom, for a queue card."""
	info = paused.get(queue)
	if not info:
		return {"paused": False}
	zone = ZoneInfo(get_system_timezone())
	since = datetime.fromtimestamp(info["at"], zone).replace(tzinfo=None) if info.get("at") else None
	return {"paused": True, "paused_since": since, "paused_by": info.get("by")}


def flow_facts(row, conn, paused: dict) -> FlowFacts | None:
	"""Flow control's part in why a job waits: its limit's slots, its rate, its queue's pause."""
	info = paused.get(row.queue)
	pause = pause_facts(paused, row.queue) if info else {}
	if not (row.held_by or pause):
		return None
	running = limits.running(conn, concurrency_group(row)) if row.held_by == HELD_BY_LIMIT else 0
	return FlowFacts(
		held_by=row.held_by,
		key=row.concurrency_key or row.job_type,
		running=running,
		limit=row.concurrency_limit or 0,
		rate=row.rate_limit,
		rate_key=row.rate_key or "",
		paused_since=pause.get("paused_since"),
		paused_by=pause.get("paused_by"),
	)


def oldest_wait(queue: str) -> float | None:
	oldest = frappe.db.get_value(
		"Async Job", {"queue": queue, "status": JobStatus.QUEUED.value}, "min(queued_at)"
	)
	return (now_datetime() - oldest).total_seconds() if oldest else None


def explain(rows: list[dict], queues: dict[str, QueueFacts]) -> list[dict]:
	"""Add `waited_seconds` so far and `why` to waiting jobs."""
	if not rows:
		return rows
	conn = get_redis_conn()
	context = Context(
		now=now_datetime(),
		stager_running=bool(conn.exists(STAGER_KEY)),
		scheduler_active=not is_scheduler_inactive(),
	)
	queues = queues or queue_facts()
	paused = queue_pause.paused(conn)
	for row in rows:
		queue_key = f"rq:queue:{generate_qname(row.queue)}"
		position = conn.lpos(queue_key, row.rq_job_id) if row.rq_job_id else None
		facts = queues.get(row.queue) or QueueFacts(0, 0, 0)
		flow = flow_facts(row, conn, paused)
		row["why"] = why_waiting(row.status, row.run_at, position, row.queue, facts, context, flow)
		row["waited_seconds"] = (context.now - (row.queued_at or row.creation)).total_seconds()
	return rows


def charts(filters: dict, since) -> dict:
	"""charts_uncached(), kept CHARTS_CACHE_SECONDS per filter set and period."""
	key = "async_jobs:charts:" + frappe.as_json([sorted(filters.items()), since.strftime("%Y-%m-%d %H")])
	cached = frappe.cache.get_value(key)
	if cached is None:
		cached = charts_uncached(filters, since)
		frappe.cache.set_value(key, cached, expires_in_sec=CHARTS_CACHE_SECONDS)
	return cached


def charts_uncached(filters: dict, since) -> dict:
	"""Jobs and failures per hour, and wait / run time p50 and p95, over the period."""
	conditions, values = _where(filters, since)
	hourly = frappe.db.sql(
		f"""SELECT DATE_FORMAT(creation, '%%Y-%%m-%%d %%H:00') AS hour, COUNT(*) AS jobs,
			SUM(status IN %(failed)s) AS failures
		FROM `tabAsync Job` WHERE {conditions} GROUP BY hour ORDER BY hour""",
		{**values, "failed": FAILED},
		as_dict=True,
	)
	by_hour = {r.hour: r for r in hourly}
	labels, counts, failures = [], [], []
	start = since.replace(minute=0, second=0, microsecond=0)
	for i in range(int((now_datetime() - start).total_seconds() // 3600) + 1):
		hour = (start + timedelta(hours=i)).strftime("%Y-%m-%d %H:00")
		labels.append(hour[11:])
		counts.append(int(by_hour[hour].jobs) if hour in by_hour else 0)
		failures.append(int(by_hour[hour].failures or 0) if hour in by_hour else 0)
	times = frappe.db.sql(
		f"""SELECT wait_seconds, run_seconds FROM `tabAsync Job`
		WHERE {conditions} AND status = 'Finished' ORDER BY creation DESC LIMIT {PERCENTILE_SAMPLE}""",
		values,
	)
	waits = sorted(r[0] or 0 for r in times)
	runs = sorted(r[1] or 0 for r in times)
	return {
		"hours": labels,
		"jobs": counts,
		"failures": failures,
		"wait": {"p50": percentile(waits, 50), "p95": percentile(waits, 95)},
		"run": {"p50": percentile(runs, 50), "p95": percentile(runs, 95)},
		"sample": len(times),
	}


def _where(filters: dict, since) -> tuple[str, dict]:
	conditions, values = ["creation >= %(since)s"], {"since": since}
	for i, (field, value) in enumerate(filters.items()):
		conditions.append(f"`{field}` = %(v{i})s")
		values[f"v{i}"] = value
	return " AND ".join(conditions), values


def percentile(sorted_values: list[float], p: float) -> float | None:
	"""Nearest-rank percentile of already sorted values."""
	if not sorted_values:
		return None
	rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n·p/100)
	return round(float(sorted_values[int(rank) - 1]), 3)
