"""Observed jobs into the ledger: the events work horses pushed (record), the jobs that wait in RQ's queues
(see_waiting), and the ends a horse could not record, read from RQ (reconcile).

- record: takes the site's events off the channel (transport/observed.py), folds each run's start, progress and
  end into one row and writes the batch in one statement (ledger/observed.py). The stager calls it about every
  second, the lifeline every pass.
- see_waiting: a job of the site that has waited WAITING_AFTER seconds in its queue gets a Queued row (what it
  runs, for whom), so the Job Monitor says why it waits and the queue-health numbers count it.
- reconcile: a Queued or Started observed row whose run RQ reports ended — failed because its work horse was
  SIGKILLed or ran out of memory, killed after its timeout, stopped, abandoned — or whose worker no longer runs
  it, or which RQ no longer knows, ends with the reason, as the lifeline ends a tracked job. Nothing is retried.
"""

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_system_timezone, now_datetime
from frappe.utils.background_jobs import generate_qname, get_queue_list, get_redis_conn
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.utils import utcformat

from async_jobs.engine.ledger import observed as ledger
from async_jobs.engine.ledger import settings
from async_jobs.engine.ledger.redact import redact_text
from async_jobs.engine.ledger.status import JobStatus
from async_jobs.engine.run.observe import SCHEDULED, arguments
from async_jobs.engine.run.progress import EVENT
from async_jobs.engine.transport import observed as channel
from async_jobs.engine.transport import realtime
from async_jobs.engine.transport import workers as rq_workers

WAITING_AFTER = 5.0  # seconds in a queue before a waiting job gets its Queued row
WAITING_SCAN = 1000  # jobs looked at per queue and pass, oldest first
END_GRACE = 10.0  # seconds RQ may report a run ended before the ledger takes RQ's word over the horse's event
MAX_BATCHES = 20  # batches of events per record() call
EXECUTE_JOB = "frappe.utils.background_jobs.execute_job"
RANK = {JobStatus.QUEUED.value: 0, JobStatus.STARTED.value: 1}

_seen: dict[str, None] = {}  # "<RQ id>|<status>" this process wrote a row for (bounded, see see_waiting)


def enabled() -> bool:
	return bool(settings.get("observe_jobs"))


def sync_flag(conn=None) -> bool:
	"""Put back the site's flag (read by work horses) should Redis have lost it; returns the setting. Saving the
	setting writes the flag itself: a pass never overwrites it with a value it read before that save committed."""
	on = enabled()
	from_config = (
		settings.site_config("observe_jobs") is not None
	)  # the site config is no race: always follow it
	channel.set_flag(conn or get_redis_conn(), frappe.local.site, on, only_if_missing=not from_config)
	return on


# events -----------------------------------------------------------------------------------------------------
def record(conn=None) -> int:
	"""Write the site's pending events into the ledger (dropped when observation is off); returns rows written."""
	conn = conn or get_redis_conn()
	site, written, on = frappe.local.site, 0, enabled()
	owners: set[str] = set()
	for _ in range(MAX_BATCHES):
		with channel.taking(conn, site) as events:
			if on and events:
				rows = list(merge(events).values())
				written += _write(rows)
				owners.update(row["owner"] for row in rows if row.get("owner"))
		if len(events) < channel.TAKE:
			break
	if written:
		nudge(owners)
	return written


def _write(rows: list[dict]) -> int:
	"""One statement for the batch; should it fail, row by row, so one bad row never blocks the others."""
	try:
		ledger.upsert(rows)
		frappe.db.commit()
		return len(rows)
	except Exception:
		frappe.db.rollback()
	written = 0
	for row in rows:
		try:
			ledger.upsert([row])
			frappe.db.commit()
			written += 1
		except Exception:
			frappe.db.rollback()
			frappe.logger("async_jobs.observe").exception(f"could not record observed job {row.get('name')}")
	return written


def merge(events: list[dict]) -> dict[str, dict]:
	"""Fold events, oldest first, into one row per run."""
	to_datetime = _converter()
	rows: dict[str, dict] = {}
	for event in events:
		name = event.get("n")
		if not ledger.is_observed_name(name):
			continue
		row = rows.setdefault(name, {"name": name, "status": JobStatus.QUEUED.value})
		kind = event.get("k")
		if event.get("id"):  # the run's facts: with its first event (its first progress, or its end)
			_facts(row, event, to_datetime)
			_advance(row, JobStatus.STARTED.value)
		if kind == "progress":
			_progress(row, event)
			_advance(row, JobStatus.STARTED.value)
		elif kind == "end":
			_progress(row, event)
			status = event.get("st") or JobStatus.FINISHED.value
			row.update(
				ended_at=to_datetime(event.get("e")), error=event.get("err"), traceback=event.get("tb")
			)
			row["error_log"] = event.get("el")
			if event.get("sj"):
				row["scheduled_job_type"] = event["sj"]
			if event.get("sa") and event.get("e"):
				row.setdefault("started_at", to_datetime(event["sa"]))
				row["run_seconds"] = round(max(0.0, event["e"] - event["sa"]), 3)
			if status == JobStatus.FINISHED.value:
				row["progress_percent"] = 100
			_advance(row, status)
	return rows


def _facts(row: dict, event: dict, to_datetime) -> None:
	method = event.get("m")
	row.update(
		owner=event.get("u"),
		job_type=method,
		method=method,
		queue=event.get("q"),
		timeout=event.get("t"),
		rq_job_id=event.get("id"),
		arguments=event.get("a"),
		queued_at=to_datetime(event.get("qa")),
		started_at=to_datetime(event.get("sa")),
		worker=event.get("w"),
	)
	if event.get("qa") and event.get("sa"):
		row["wait_seconds"] = round(max(0.0, event["sa"] - event["qa"]), 3)
	if event.get("s") and method:
		row.setdefault("scheduled_job_type", ".".join(method.split(".")[-2:]))  # Frappe's autoname


def _progress(row: dict, event: dict) -> None:
	if event.get("p"):
		done, total, percent, message = event["p"]
		row.update(
			progress_done=done, progress_total=total, progress_percent=percent, progress_message=message
		)
	if event.get("r"):
		row.setdefault("reference_doctype", event["r"][0])
		row.setdefault("reference_name", event["r"][1])


def _advance(row: dict, status: str) -> None:
	"""Statuses only move forward: Queued → Started → an end (the first end stays)."""
	if RANK.get(row["status"], 2) < RANK.get(status, 2):
		row["status"] = status


def _converter():
	"""Epoch seconds (or RQ's UTC datetimes) → the site's naive local datetimes, as Frappe stores them."""
	zone = ZoneInfo(get_system_timezone())

	def convert(value):
		if value in (None, ""):
			return None
		if isinstance(value, datetime):
			aware = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
		else:
			aware = datetime.fromtimestamp(float(value), timezone.utc)
		return aware.astimezone(zone).replace(tzinfo=None)

	return convert


def nudge(owners: set[str]) -> None:
	"""Tell open Job Monitors (managers', and the owners') that observed rows changed: they refresh once."""
	message = {"name": "", "kind": ledger.KIND_OBSERVED, "status": "changed"}
	frappe.publish_realtime(EVENT, message, doctype=realtime.MONITOR_ROOM, docname=realtime.MONITOR_ROOM)
	for owner in sorted(owners - {"Administrator", "Guest"})[:20]:
		frappe.publish_realtime(EVENT, message, user=owner)


# waiting jobs -----------------------------------------------------------------------------------------------
def see_waiting(conn=None, now: float | None = None) -> int:
	"""A Queued row for each of the site's plain jobs that has waited WAITING_AFTER seconds in its queue, and a
	Started row for each one RQ's started registry lists (a job still running when this pass comes; its horse
	tells its end); returns how many rows were new to this process."""
	conn = conn or get_redis_conn()
	site = frappe.local.site
	now = now or time.time()
	pipe = conn.pipeline(transaction=False)
	for queue in get_queue_list():
		pipe.lrange(f"rq:queue:{generate_qname(queue)}", 0, WAITING_SCAN - 1)
		pipe.zrange(f"rq:wip:{generate_qname(queue)}", 0, WAITING_SCAN - 1)
	ids = [i.decode() for ids in pipe.execute() for i in ids]
	mine = [i for i in dict.fromkeys(ids) if _is_observable(i, site)]
	rows, to_datetime = [], _converter()
	for job in Job.fetch_many(mine, connection=conn) if mine else []:
		row = _rq_row(job, now, to_datetime)
		if row:
			rows.append(row)
	if len(_seen) > 50_000:
		_seen.clear()
	if rows:
		ledger.upsert(rows)
		frappe.db.commit()
		_seen.update(dict.fromkeys(f"{row['rq_job_id']}|{row['status']}" for row in rows))
		nudge({row["owner"] for row in rows if row.get("owner")})
	return len(rows)


def _is_observable(rq_id: str, site: str) -> bool:
	return rq_id.startswith(f"{site}::") and not rq_id.startswith(f"{site}::async_job::")


def _rq_row(job, now: float, to_datetime) -> dict | None:
	if job is None or job.func_name != EXECUTE_JOB:
		return None
	status = job.get_status(refresh=False)
	started = status == "started"
	if status not in ("queued", "started") or f"{job.id}|{'Started' if started else 'Queued'}" in _seen:
		return None
	enqueued = job.enqueued_at or job.created_at
	if enqueued is None:
		return None
	if not started and now - enqueued.replace(tzinfo=timezone.utc).timestamp() < WAITING_AFTER:
		return None
	try:
		outer = job.kwargs
	except Exception:
		return None
	method = outer.get("method")
	if callable(method):
		method = f"{method.__module__}.{method.__qualname__}"
	inner = outer.get("kwargs") or {}
	if method == SCHEDULED and inner.get("job_type"):
		method = inner["job_type"]
	row = {
		"name": ledger.row_name(job.id, utcformat(enqueued)),
		"status": JobStatus.STARTED.value if started else JobStatus.QUEUED.value,
		"owner": outer.get("user") or "Administrator",
		"job_type": method,
		"method": method,
		"queue": (job.origin or "").split(":", 1)[-1],
		"timeout": job.timeout,
		"rq_job_id": job.id,
		"arguments": arguments(inner),
		"queued_at": to_datetime(enqueued),
	}
	if started and job.started_at:
		row.update(started_at=to_datetime(job.started_at), worker=job.worker_name)
		row["wait_seconds"] = round(max(0.0, (job.started_at - enqueued).total_seconds()), 3)
	return row


# ends no horse recorded -------------------------------------------------------------------------------------
def reconcile(conn=None, stale: float = 30.0) -> dict[str, int]:
	"""One pass over the site's active observed rows against RQ; returns counts."""
	conn = conn or get_redis_conn()
	counts = {"recorded": record(conn), "waiting": 0, "ended": 0}
	if sync_flag(conn):
		counts["waiting"] = see_waiting(conn)
	rows = frappe.db.sql(
		"""SELECT name, status, rq_job_id, started_at, queued_at, timeout, worker, modified
		FROM `tabAsync Job` WHERE status IN ('Queued', 'Started') AND kind = 'Observed'""",
		as_dict=True,
	)
	if not rows:
		return counts
	seconds, micros = conn.time()
	redis_now = seconds + micros / 1e6
	verdicts = []
	for row, facts in zip(rows, _rq_facts(conn, [r.rq_job_id for r in rows]), strict=True):
		verdict = judge(row, facts, conn, redis_now, stale)
		if verdict:
			verdicts.append({"name": row.name, **verdict})
	if verdicts:
		ledger.upsert(verdicts)
		frappe.db.commit()
		nudge(set())
	counts["ended"] = len(verdicts)
	return counts


FACTS = ("status", "enqueued_at", "created_at", "started_at", "ended_at", "worker_name")


def _rq_facts(conn, rq_ids: list[str | None]) -> list[dict]:
	pipe = conn.pipeline(transaction=False)
	for rq_id in rq_ids:
		pipe.hmget(Job.key_for(rq_id or "-"), *FACTS)
	return [
		dict(zip(FACTS, (v.decode() if v else None for v in values), strict=True))
		for values in pipe.execute()
	]


def _utc(text: str | None) -> float | None:
	if not text:
		return None
	try:
		return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
	except ValueError:
		return None


def judge(row, facts: dict, conn, now: float, stale: float) -> dict | None:
	"""The end of an observed run that its horse did not record, or None while it may still be recorded."""
	to_datetime = _converter()
	since_write = now - row.modified.replace(tzinfo=ZoneInfo(get_system_timezone())).timestamp()
	rq_status = facts["status"]
	if (
		rq_status is None
		or ledger.row_name(row.rq_job_id, facts["enqueued_at"] or facts["created_at"]) != row.name
	):
		if since_write < stale:
			return None
		return _ended(
			row,
			JobStatus.LOST,
			"RQ no longer knows this run (Redis restarted or was flushed, or a later run of the same RQ id"
			" replaced it) and its end was never recorded",
			to_datetime(now),
		)
	if rq_status in ("queued", "deferred", "scheduled"):
		return None
	ended = _utc(facts["ended_at"])
	if rq_status == "started":
		worker = facts["worker_name"]
		started = _utc(facts["started_at"]) or now
		if now - started < stale or (worker and rq_workers.holds(conn, worker, row.rq_job_id)):
			return None
		who = rq_workers.describe(conn, worker)
		return _ended(
			row,
			JobStatus.FAILED,
			f"Worker lost: {who} no longer runs it (stopped, or its host is gone)",
			None,
		)
	if ended is not None and now - ended < END_GRACE:
		return None  # the horse's own record may still be on its way
	when = to_datetime(ended) if ended else to_datetime(now)
	if rq_status == "finished":
		return {**_ended(row, JobStatus.FINISHED, None, when), "progress_percent": 100}
	return _failed(row, rq_status, when, _utc(facts["started_at"]), ended or now)


def _failed(row, rq_status: str, when, started: float | None, ended: float) -> dict:
	try:
		exc_info = Job.fetch(row.rq_job_id, connection=get_redis_conn()).exc_info or ""
	except NoSuchJobError:
		exc_info = ""
	lines = [line for line in exc_info.strip().splitlines() if line.strip()]
	last = redact_text(lines[-1])[:800] if lines else f"RQ reports the job {rq_status}"
	ran = ended - started if started else 0
	killed = "terminated unexpectedly" in exc_info or "signal 9" in exc_info
	if rq_status in ("stopped", "canceled") or "stopped by user" in exc_info:
		return _ended(row, JobStatus.CANCELLED, f"Stopped through RQ: {last}", when)
	if "JobTimeoutException" in exc_info:
		return _ended(row, JobStatus.TIMED_OUT, last, when, exc_info)
	if killed and row.timeout and ran > row.timeout:
		message = f"Killed after its timeout of {row.timeout} s: {last}"
		return _ended(row, JobStatus.TIMED_OUT, message, when)
	if killed:
		return _ended(
			row, JobStatus.FAILED, f"Work horse killed (SIGKILL, out of memory, or stopped): {last}", when
		)
	if "AbandonedJobError" in exc_info:
		return _ended(row, JobStatus.FAILED, f"Worker lost: {last}", when)
	return _ended(row, JobStatus.FAILED, last, when, exc_info)


def _ended(row, status: JobStatus, error: str | None, when, trace: str | None = None) -> dict:
	when = when or now_datetime()
	verdict = {"status": status.value, "ended_at": when, "error": (error or None) and error[:1000]}
	if trace:
		verdict["traceback"] = redact_text(trace)
	if row.started_at:
		verdict["run_seconds"] = round(max(0.0, (when - row.started_at).total_seconds()), 3)
	return verdict
