"""Data for the Job Monitor page: live jobs, why waiting jobs wait, failures, queue cards and charts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_system_timezone, now_datetime
from frappe.utils.background_jobs import generate_qname, get_queue, get_queues_timeout, get_redis_conn
from frappe.utils.scheduler import is_scheduler_inactive

from async_jobs.engine.batches.view import list_active
from async_jobs.engine.chains import view as chain_view
from async_jobs.engine.ledger.status import (
	FAILED_END_VALUES,
	HELD_BY_LIMIT,
	HELD_BY_PARENTS,
	WAITING,
	JobStatus,
)
from async_jobs.engine.run.held import concurrency_group
from async_jobs.engine.submit import permissions, registry
from async_jobs.engine.transport import limits
from async_jobs.engine.transport import pause as queue_pause
from async_jobs.engine.transport import workers as rq_workers
from async_jobs.engine.transport.delayed import STAGER_KEY
from async_jobs.engine.views import jobs
from async_jobs.engine.views.waiting import Context, FlowFacts, QueueFacts, why_waiting

FAILED = list(FAILED_END_VALUES)
FLOW_FIELDS = ["held_by", "concurrency_limit", "concurrency_key", "rate_limit", "rate_key"]
ENDED = [s.value for s in JobStatus if s not in WAITING and s != JobStatus.STARTED]
LIMITS = {"running": 50, "waiting": 50, "failed": 15, "recent": 15}
PERCENTILE_SAMPLE = 5000  # the newest finished jobs of the period
SUGGESTION_ROWS = 500  # job types are suggested from the registry and the newest rows
# The period's buckets: (bucket, its length, how many) by the period asked for.
MINUTES_5, HOUR, DAY = timedelta(minutes=5), timedelta(hours=1), timedelta(days=1)


def overview(filters: dict, since_hours: int = 24) -> dict:
	"""Everything the page shows, for the jobs the session user may see, computed afresh (charts, counts and
	tables come from one moment: what a table lists a chart has counted)."""
	base = jobs.visible_filters(**filters)
	now = now_datetime()
	bucket, step, count = buckets(since_hours)
	since = floor(now, bucket) - step * (count - 1)
	manager = permissions.is_manager()
	queues = queue_facts() if manager else {}
	chart = charts(base, since, now, bucket, step, count)
	paused = queue_pause.paused(get_redis_conn()) if manager else {}
	running = _jobs(base, "running", [JobStatus.STARTED.value])
	waiting = _jobs(base, "waiting", [s.value for s in WAITING], extra=FLOW_FIELDS)
	return {
		"now": str(now),
		"since": str(since),
		"running": where_running(running),
		"waiting": explain(waiting, queues, now),
		"failed": _jobs(base, "failed", FAILED, since, extra=["traceback", "error_log"]),
		"recent": _jobs(base, "recent", ENDED, since),
		"totals": {
			"running": _total(base, running, "running", [JobStatus.STARTED.value]),
			"waiting": _total(base, waiting, "waiting", [s.value for s in WAITING]),
			"failed": sum(chart["failures"]),
			"recent": chart["ended"],
		},
		"limits": LIMITS,
		"batches": list_active(),
		"chains": chain_view.recent_chains(base, since),
		"queues": queue_cards(queues, base.get("queue"), paused),
		"charts": chart,
		"suggestions": suggestions(base, manager),
		"is_manager": manager,
	}


def buckets(since_hours: int) -> tuple[str, timedelta, int]:
	"""The charts' buckets for a period: 5 minutes over an hour, hours up to a day, days beyond."""
	if since_hours <= 1:
		return "5min", MINUTES_5, 12
	if since_hours <= 24:
		return "hour", HOUR, since_hours
	return "day", DAY, -(-since_hours // 24)


def floor(moment, bucket: str):
	"""The start of the bucket `moment` falls in."""
	moment = moment.replace(second=0, microsecond=0)
	if bucket == "5min":
		return moment.replace(minute=moment.minute - moment.minute % 5)
	moment = moment.replace(minute=0)
	return moment.replace(hour=0) if bucket == "day" else moment


def _total(base: dict, rows: list[dict], section: str, statuses: list[str]) -> int:
	"""How many jobs a live section has: its rows, or (when they reached the limit) a count."""
	if len(rows) < LIMITS[section]:
		return len(rows)
	wanted = base.get("status")
	return frappe.db.count("Async Job", {**base, "status": ["in", [wanted] if wanted else statuses]})


def where_running(rows: list[dict]) -> list[dict]:
	"""Add `worker_where` to running jobs: their worker as `host:pid (kind)` (pids repeat across hosts; the RQ
	name in `worker` tells workers apart), marked gone when the worker no longer runs (RQ may still list it)."""
	if rows:
		conn = get_redis_conn()
		workers = {w.name: w for w in rq_workers.gather(conn)}
		remembered = rq_workers.labels(conn, [r.worker for r in rows if r.worker not in workers])
		for row in rows:
			w = workers.get(row.worker)
			if w:
				row["worker_where"] = w.label if w.alive else _("{0}, gone").format(w.label)
			elif row.worker in remembered:
				row["worker_where"] = _("{0}, gone").format(remembered[row.worker])
			else:
				row["worker_where"] = row.worker or ""
	return rows


def _jobs(
	base: dict, section: str, statuses: list[str], since=None, extra: list[str] | None = None
) -> list[dict]:
	"""A section's jobs: its statuses, narrowed to the status filter if one was given (none if it excludes them)."""
	wanted = base.get("status")
	if wanted and wanted not in statuses:
		return []
	statuses = [wanted] if wanted else statuses
	fields = [*jobs.SUMMARY_FIELDS, "worker", "rq_job_id", *(extra or [])]
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


def queue_cards(
	queues: dict[str, QueueFacts], only: str | None = None, paused: dict | None = None
) -> list[dict]:
	"""A card per queue (only the filtered one, if a queue filter is set): its RQ depth split into this site's
	tracked jobs (the Waiting section lists them) and the others RQ holds there — plain frappe.enqueue jobs and
	other sites' jobs (the bench shares its queues) — and whether it is paused."""
	cards = []
	for name, facts in queues.items():
		if only and name != only:
			continue
		tracked = frappe.db.count("Async Job", {"queue": name, "status": JobStatus.QUEUED.value})
		cards.append(
			{
				"queue": name,
				**vars(facts),
				"tracked": min(tracked, facts.depth),
				"untracked": max(0, facts.depth - tracked),
				"oldest_wait": oldest_wait(name),
				**pause_facts(paused or {}, name),
			}
		)
	return cards


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
	waits_for = chain_view.waits_for(row.name) if row.held_by == HELD_BY_PARENTS else ([], 0)
	return FlowFacts(
		parents_pending=tuple(waits_for[0]),
		parents_total=waits_for[1],
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


def explain(rows: list[dict], queues: dict[str, QueueFacts], now) -> list[dict]:
	"""Add to waiting jobs `why` (a sentence; for a job not due yet it ends where `why_until`, its due time,
	follows), `position` in its RQ queue and `waiting_since`: when it became due (None while it is not)."""
	if not rows:
		return rows
	conn = get_redis_conn()
	context = Context(
		now=now,
		stager_running=bool(conn.exists(STAGER_KEY)),
		scheduler_active=not is_scheduler_inactive(),
	)
	queues = queues or queue_facts()
	paused = queue_pause.paused(conn)
	for row in rows:
		queue_key = f"rq:queue:{generate_qname(row.queue)}"
		position = conn.lpos(queue_key, row.rq_job_id) if row.rq_job_id else None
		facts = queues.get(row.queue) or QueueFacts(0, 0, 0)
		row["position"] = position
		flow = flow_facts(row, conn, paused)
		row["why"] = why_waiting(row.status, row.run_at, position, row.queue, facts, context, flow)
		due = row.run_at if row.status in ("Scheduled", "Retrying") and row.run_at else None
		row["why_until"] = str(due) if due and due > now else None
		if due:
			row["waiting_since"] = str(due) if due <= now else None
		else:
			row["waiting_since"] = str(row.queued_at or row.creation)
		row.pop("rq_job_id", None)
	return rows


def suggestions(base: dict, manager: bool) -> dict:
	"""What the filters offer: job types (registered ones the user may start — every one for managers — and
	those of the user's newest rows), queues."""
	startable = None if manager else {t["name"] for t in permissions.startable_for_user()}
	registered = {
		spec.name: spec.label or spec.name
		for spec in registry.job_types().values()
		if startable is None or spec.name in startable
	}
	mine = {k: v for k, v in base.items() if k == "owner"}
	conditions, values = _where(mine, None)
	seen = frappe.db.sql(
		f"""SELECT DISTINCT job_type FROM (SELECT job_type FROM `tabAsync Job` WHERE {conditions}
		ORDER BY creation DESC LIMIT {SUGGESTION_ROWS}) newest""",
		values,
	)
	types = {**{t: t for (t,) in seen if t}, **registered}
	return {
		"job_types": sorted(({"value": k, "label": v} for k, v in types.items()), key=lambda t: t["label"]),
		"queues": list(get_queues_timeout()),
	}


def charts(base: dict, since, now, bucket: str, step, count: int) -> dict:
	"""Jobs and failures per bucket of the period (by creation, as the tables), how many of them ended, and wait
	/ run time p50 and p95 of its newest finished jobs (of the filtered status, when one is set)."""
	conditions, values = _where(base, since)
	key = {
		"5min": "CONCAT(DATE_FORMAT(creation, '%%Y-%%m-%%d %%H:'), LPAD(MINUTE(creation) DIV 5 * 5, 2, '0'), ':00')",
		"hour": "DATE_FORMAT(creation, '%%Y-%%m-%%d %%H:00:00')",
		"day": "DATE_FORMAT(creation, '%%Y-%%m-%%d 00:00:00')",
	}[bucket]
	rows = frappe.db.sql(
		f"""SELECT {key} AS bucket, COUNT(*) AS jobs, SUM(status IN %(failed)s) AS failures,
			SUM(status IN %(ended)s) AS ended
		FROM `tabAsync Job` WHERE {conditions} GROUP BY bucket""",
		{**values, "failed": FAILED, "ended": ENDED},
		as_dict=True,
	)
	by_bucket = {r.bucket: r for r in rows}
	starts = [str(since + step * i) for i in range(count)]
	empty = frappe._dict(jobs=0, failures=0)
	sampled = base.get("status") or JobStatus.FINISHED.value
	conditions, values = _where({**base, "status": sampled}, since)
	times = frappe.db.sql(
		f"""SELECT wait_seconds, run_seconds FROM `tabAsync Job`
		WHERE {conditions} ORDER BY creation DESC LIMIT {PERCENTILE_SAMPLE}""",
		values,
	)
	waits = sorted(r[0] or 0 for r in times)
	runs = sorted(r[1] or 0 for r in times)
	return {
		"bucket": bucket,
		"starts": starts,
		"jobs": [int(by_bucket.get(b, empty).jobs) for b in starts],
		"failures": [int(by_bucket.get(b, empty).failures or 0) for b in starts],
		"ended": int(sum(r.ended or 0 for r in rows)),
		"wait": {"p50": percentile(waits, 50), "p95": percentile(waits, 95)},
		"run": {"p50": percentile(runs, 50), "p95": percentile(runs, 95)},
		"sample": len(times),
		"sample_status": sampled,
	}


def _where(filters: dict, since) -> tuple[str, dict]:
	conditions, values = (["creation >= %(since)s"], {"since": since}) if since else (["1=1"], {})
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
