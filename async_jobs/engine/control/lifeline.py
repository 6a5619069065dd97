"""Lifeline: find tracked jobs whose attempt ended without the executor recording it, and finish the story.

- Started jobs whose heartbeat stopped (worker killed, machine gone) or whose RQ job failed under them (work horse
  SIGKILLed, out of memory, stopped) are retried or ended by their retry policy, with the reason.
- Started jobs past their timeout that still beat (SIGALRM did not stop them) get their work horse killed through
  RQ's command channel, which reaches workers on any host; the next pass records them as timed out.
- Waiting jobs whose RQ job is gone (Redis restarted without persistence, FLUSHALL), died before the job
  started, or was started by a work horse that died before recording the start are enqueued again from their
  encrypted arguments; after three such recoveries, or without arguments, a job ends Lost.

Observed jobs (Frappe's own, not enqueued through async_jobs) are never retried or recovered: each pass also
records their events and ends what their horses could not record (control/observed.py).

Runs per site: from the stager process every few seconds and from the site scheduler every minute.
"""

import traceback
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import cint, now_datetime
from frappe.utils.background_jobs import get_redis_conn
from rq.command import send_kill_horse_command
from rq.exceptions import NoSuchJobError
from rq.job import Job

from async_jobs.engine.batches.settle import settle_pending
from async_jobs.engine.chains import release
from async_jobs.engine.control import observed
from async_jobs.engine.ledger import lifecycle, settings
from async_jobs.engine.ledger.errors import HardTimeout, WorkerLost
from async_jobs.engine.ledger.observed import KIND_OBSERVED
from async_jobs.engine.ledger.redact import redact_text
from async_jobs.engine.ledger.status import IN_TRANSPORT, TRANSITIONS, WAITING, JobStatus
from async_jobs.engine.retry.outcome import decide
from async_jobs.engine.retry.policy import RetryPolicy, attempts_in_round
from async_jobs.engine.run import gate, held
from async_jobs.engine.run.ended import attempt_ended
from async_jobs.engine.transport import heartbeat, rq_jobs
from async_jobs.engine.transport import workers as rq_workers
from async_jobs.engine.transport.delayed import DELAYED_KEY
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

KILL_AFTER_TIMEOUT = 10.0  # seconds past its timeout before the lifeline kills a job's work horse
MAX_RECOVERIES = (
	3  # a waiting job whose RQ job keeps vanishing or dying before it starts ends Lost after this
)
WILL_RUN = ("queued", "deferred", "scheduled", "started")  # RQ states in which the job may still run
FIELDS = [
	"name",
	"status",
	"job_type",
	"started_at",
	"timeout",
	"worker",
	"rq_job_id",
	"attempts",
	"max_attempts",
	"retry_policy",
]


def recover_after() -> float:
	"""Seconds a waiting job's RQ job may be missing before it is enqueued again."""
	return settings.seconds("recover_seconds")


def stale_after() -> float:
	"""Seconds without a heartbeat before a started job counts as lost."""
	return settings.seconds("lifeline_stale_seconds")


def reconcile(recover_waiting: bool = True) -> dict[str, int]:
	"""One pass over this site's started jobs and (unless told not to) its waiting jobs; returns counts."""
	counts = {"lost": 0, "killed": 0, "recovered": 0, "gone": 0, "batches": 0, "errors": 0}
	counts["expired"] = expire_overdue(counts)
	counts["released"] = held.fill_all()  # held jobs whose slot freed without a word (a lease ran out)
	counts["fed"] = held.feed_held_queues()  # jobs held back by backpressure, should no stager feed them
	conn, stale = get_redis_conn(), stale_after()
	tracked = {"kind": ["!=", KIND_OBSERVED]}  # observed jobs are judged by control/observed.py
	for row in frappe.get_all(
		"Async Job", filters={"status": JobStatus.STARTED.value, **tracked}, fields=FIELDS
	):
		with _one_row(row, counts):
			verdict = examine_started(row, conn, stale)
			if verdict == "kill":
				counts["killed"] += kill_overdue(row, conn)
			elif verdict:
				counts["lost"] += record_lost(row, verdict)
	counts["batches"] = settle_pending()
	counts["after"] = release.release_pending()  # children whose parents all ended where nobody looked
	counts["observed"] = _observed(conn, stale)
	if not recover_waiting:
		return counts
	cutoff = now_datetime() - timedelta(seconds=recover_after())
	waiting = frappe.get_all(
		"Async Job",
		filters={"status": ["in", [s.value for s in IN_TRANSPORT]], "modified": ["<", cutoff], **tracked},
		fields=["name", "status", "rq_job_id", "recovered", "run_at"],
	)
	queue_lengths: dict[str, int] = {}
	for row, facts in zip(waiting, rq_states([r.rq_job_id for r in waiting], conn), strict=True):
		dropped = row.status == JobStatus.QUEUED and taken_and_dropped(row, facts, conn, queue_lengths, stale)
		if (
			facts[0] in WILL_RUN
			and not died_before_recording(row.rq_job_id, facts, conn, stale)
			and not dropped
		):
			continue
		key = "gone" if row.recovered >= MAX_RECOVERIES else "recovered"
		with _one_row(row, counts):
			counts[key] += recover(row)
	return counts


def _observed(conn, stale: float) -> int:
	"""The observed jobs' pass (their events, waiting jobs, ends no horse recorded); its trouble is logged and
	never stops the tracked jobs' pass."""
	try:
		return observed.reconcile(conn, stale)["ended"]
	except Exception:
		frappe.db.rollback()
		frappe.log_error(
			title="async_jobs: the lifeline could not reconcile observed jobs",
			message=redact_text(traceback.format_exc()),
		)
		frappe.db.commit()
		return 0


def expire_overdue(counts: dict[str, int], limit: int = 500) -> int:
	"""Waiting jobs past their expires_at end Expired (their RQ job removed) instead of running late."""
	rows = frappe.db.sql(
		"SELECT name, rq_job_id, expires_at FROM `tabAsync Job` WHERE status IN %s AND expires_at < %s LIMIT %s",
		(tuple(s.value for s in WAITING), now_datetime(), limit),
		as_dict=True,
	)
	expired = 0
	for row in rows:
		with _one_row(row, counts):
			gate.expire(row.name, row.expires_at)
			if row.rq_job_id:
				rq_jobs.remove(row.rq_job_id)
			expired += 1
	return expired


@contextmanager
def _one_row(row, counts: dict[str, int]):
	"""One job's trouble (a row the lifeline cannot act on) is logged and never ends the pass for the others."""
	try:
		yield
	except Exception:
		frappe.db.rollback()
		counts["errors"] += 1
		frappe.log_error(
			title=f"Async Job {row.name}: the lifeline could not reconcile it",
			message=redact_text(traceback.format_exc()),
			reference_doctype="Async Job",
			reference_name=row.name,
		)
		frappe.db.commit()


def examine_started(row, conn, stale: float) -> str | None:
	"""None while the attempt looks alive; 'kill' when it overran its timeout; else the reason it was lost."""
	rq_state, rq_error = _rq_state(row.rq_job_id, conn)
	elapsed = (now_datetime() - row.started_at).total_seconds() if row.started_at else 0
	if rq_state in ("failed", "stopped", "canceled"):
		return _reason(rq_error) or f"RQ reports the attempt {rq_state}"
	silent = heartbeat.silence(conn, frappe.local.site, row.name)
	silent = elapsed if silent is None else silent
	if silent > stale:
		who = rq_workers.describe(conn, row.worker)
		return f"Worker lost: no heartbeat for {silent:.0f} s ({who} stopped or its host is gone)"
	if row.timeout and elapsed > row.timeout + KILL_AFTER_TIMEOUT:
		return "kill"
	return None


def _rq_state(rq_id: str | None, conn) -> tuple[str | None, str | None]:
	if not rq_id:
		return None, None
	try:
		job = Job.fetch(rq_id, connection=conn)
	except NoSuchJobError:
		return None, None
	return job.get_status(refresh=False), job.exc_info


def rq_states(rq_ids: list[str | None], conn) -> list[tuple[str | None, ...]]:
	"""The RQ status, start time, worker, queue and enqueue time of many jobs in one round trip (all None: RQ has no
	such job)."""
	pipe = conn.pipeline(transaction=False)
	for rq_id in rq_ids:
		pipe.hmget(Job.key_for(rq_id or "-"), "status", "started_at", "worker_name", "origin", "enqueued_at")
	return [tuple(v.decode() if v else None for v in values) for values in pipe.execute()]


def taken_and_dropped(row, rq_facts: tuple, conn, queue_lengths: dict, stale: float) -> bool:
	"""RQ says a queued job of ours is queued, but its queue is empty, it is not delayed and it was enqueued more
	than `stale` seconds ago: a worker popped it and died before starting it (killed in that instant, say), and no
	worker will ever see it. (A live worker moves a job it popped to started within milliseconds; a job pushed a
	moment ago may be in exactly that instant.) Enqueuing it again is safe for the same reason as in
	died_before_recording. Only an empty queue is taken as proof (one LLEN per queue and pass): a job in a long
	queue is never searched for."""
	rq_state, _started, _worker, origin, enqueued = rq_facts
	if rq_state != "queued" or not origin or conn.zscore(DELAYED_KEY, row.rq_job_id) is not None:
		return False
	if not _older_than(enqueued, stale, conn):
		return False
	if origin not in queue_lengths:
		queue_lengths[origin] = conn.llen(f"rq:queue:{origin}")
	return queue_lengths[origin] == 0


def died_before_recording(rq_id: str, rq_facts: tuple, conn, stale: float) -> bool:
	"""RQ started the job, the ledger still says it waits, and the worker RQ gave it to no longer runs it: its work
	horse died before the executor's first step (recording the start) — killed with its worker or its host, say.
	The worker is asked for by its RQ name, wherever it runs (workers.holds); an RQ job without one is judged by
	how long ago it started, on the Redis server's clock. Enqueuing it again is safe: whichever push records
	the start first runs, any other finds the row started and does nothing. `rq_facts`: rq_states() of it."""
	rq_state, rq_started, rq_worker, _origin, _enqueued = rq_facts
	if rq_state != "started":
		return False
	if rq_worker:
		return not rq_workers.holds(conn, rq_worker, rq_id)
	return _older_than(rq_started, stale, conn)


def _older_than(rq_time: str | None, seconds: float, conn) -> bool:
	"""Whether an RQ timestamp lies more than `seconds` back, on the Redis server's clock (False if it is none)."""
	try:
		then = datetime.strptime(rq_time or "", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
	except ValueError:
		return False
	now, micros = conn.time()
	return now + micros / 1e6 - then.timestamp() > seconds


def _reason(exc_info: str | None) -> str | None:
	if not exc_info:
		return None
	last = redact_text([line for line in exc_info.strip().splitlines() if line.strip()][-1])
	if "terminated unexpectedly" in exc_info or "signal 9" in exc_info:
		return f"Work horse killed (SIGKILL, out of memory, or stopped): {last}"[:1000]
	return f"Attempt ended outside async_jobs: {last}"[:1000]


def kill_overdue(row, conn) -> int:
	"""Ask the job's worker to kill its work horse (works across hosts); the next pass records the timeout."""
	if not row.worker:
		return 0
	send_kill_horse_command(conn, row.worker)
	return 1


def record_lost(row, reason: str) -> int:
	"""End or reschedule a lost attempt by the job's retry policy; 1 if this pass recorded it."""
	elapsed = (now_datetime() - row.started_at).total_seconds() if row.started_at else 0
	overran = bool(row.timeout) and elapsed > row.timeout
	exc = (
		HardTimeout(f"Killed after its timeout of {row.timeout} s. {reason}")
		if overran
		else WorkerLost(reason)
	)
	policy = RetryPolicy.from_json(row.retry_policy)
	verb, delay = decide(policy, exc, attempts_in_round(policy, cint(row.attempts), row.max_attempts))
	fields = {"error": str(exc)[:1000]}
	run_at = now_datetime() + timedelta(seconds=delay) if delay is not None else None
	if run_at:
		fields["run_at"] = run_at
	if not lifecycle.transition(row.name, verb, attempt=cint(row.attempts), log_error=str(exc), **fields):
		frappe.db.rollback()
		return 0  # the executor recorded it after all
	heartbeat.clear(get_redis_conn(), frappe.local.site, row.name)
	frappe.log_error(
		title=f"Async Job {row.name}: {row.job_type} lost",
		message=str(exc),
		reference_doctype="Async Job",
		reference_name=row.name,
	)
	frappe.db.commit()
	if run_at and (problem := _dispatch(row.name, run_at)):
		_lose(row.name, problem)  # it cannot run again: it ends Lost, and _lose tells everyone
	else:
		attempt_ended(row.name, attempt=cint(row.attempts))
	return 1


def recover(row) -> int:
	"""Enqueue a waiting job whose RQ job vanished (Redis lost it) or died before the job started (the worker
	could not reach the database, say); after MAX_RECOVERIES it ends Lost."""
	if row.recovered >= MAX_RECOVERIES:
		return _lose(row.name, f"Its RQ job was lost {row.recovered} times; not enqueued again")
	frappe.db.sql(
		"UPDATE `tabAsync Job` SET recovered = recovered + 1 WHERE name = %s AND recovered = %s AND status = %s",
		(row.name, row.recovered, row.status),
	)
	if not frappe.db._cursor.rowcount:
		return 0  # another lifeline pass took it
	frappe.db.commit()
	future = row.run_at and row.run_at > now_datetime() and row.status != JobStatus.QUEUED.value
	problem = _dispatch(row.name, row.run_at if future else None)
	return _lose(row.name, problem) if problem else 1


def _dispatch(name: str, run_at) -> str | None:
	"""Push the next attempt of job `name`; None, or why it cannot run again."""
	try:
		dispatch(name, run_at)
		frappe.db.commit()
		return None
	except CannotDispatch as e:
		frappe.db.rollback()
		return str(e)


def _lose(name: str, reason: str) -> int:
	done = lifecycle.transition(name, "lose", error=reason[:1000])
	frappe.db.commit()
	if done:
		attempt_ended(name)
	return int(done)
