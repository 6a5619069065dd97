"""The only writer of tracked jobs' status: each verb is one compare-and-set UPDATE guarded by the transition table
(observed jobs — Frappe's own, not enqueued through async_jobs — have their own writer, observed.py, and no verb
here changes them).

A transition that loses a race (the job was cancelled while a worker picked it up, say) changes nothing and
returns False, so callers never overwrite a state they did not expect. A batch child's end (or its retry by hand)
also moves its batch's counters, in the same transaction: each end is counted exactly once.
"""

import frappe
from frappe.utils import now_datetime

from async_jobs.engine.ledger.status import FAILED_ENDS, TERMINAL, TRANSITIONS, JobStatus

TABLE = "`tabAsync Job`"
BATCH_TABLE = "`tabAsync Job Batch`"

# SQL run for each target state, in addition to status and modified.
_STARTED = (
	"started_at = %(now)s, attempts = attempts + 1,"
	" queued_at = COALESCE(queued_at, run_at, creation),"
	" wait_seconds = TIMESTAMPDIFF(MICROSECOND, COALESCE(queued_at, run_at, creation), %(now)s) / 1e6,"
	" dedup_lock = IF(dedup_mode = 'until_started', NULL, dedup_lock)"
)
_ENDED = "ended_at = %(now)s, dedup_lock = NULL"
_REQUEUED = (
	"queued_at = %(now)s, ended_at = NULL, run_at = NULL, cancel_requested = 0, recovered = 0,"
	" expires_at = NULL"  # a retry by hand runs now, whatever the first round's expiry said
)
_RUN_TIME = "run_seconds = COALESCE(TIMESTAMPDIFF(MICROSECOND, started_at, %(now)s) / 1e6, 0)"
# The attempt ending now, appended to the attempt log in the same statement (first: it reads the row's values
# before this statement's other assignments change them).
_LOG_ATTEMPT = (
	"attempt_log = JSON_ARRAY_APPEND(IF(JSON_VALID(attempt_log), attempt_log, '[]'), '$', JSON_OBJECT("
	"'attempt', attempts, 'worker', worker, 'started_at', CAST(started_at AS CHAR), 'ended_at', %(now_text)s,"
	" 'status', %(target)s, 'error', %(log_error)s))"
)
_NO_ERROR = object()


def _build(
	name: str, verb: str, attempt: int | None = None, log_error=_NO_ERROR, **fields
) -> tuple[str, dict]:
	"""The compare-and-set UPDATE for moving job `name` by `verb` (only while `attempt` is its latest attempt, when
	given), as (sql, values). With `log_error` (the attempt's error, or None) the attempt ending now is appended to
	the job's attempt log."""
	sources, target = TRANSITIONS[verb]
	now = now_datetime()
	values = {"name": name, "target": target.value, "now": now, "sources": tuple(s.value for s in sources)}
	assignments = []
	if log_error is not _NO_ERROR:
		assignments.append(_LOG_ATTEMPT)
		values.update(now_text=str(now), log_error=log_error)
	assignments += ["status = %(target)s", "modified = %(now)s"]
	if target == JobStatus.STARTED:
		assignments.append(_STARTED)
	if verb == "requeue":
		assignments.append(_REQUEUED)
	if target in (JobStatus.STARTED, JobStatus.QUEUED) or target in TERMINAL:
		assignments.append("held_by = NULL")  # why it was held (or its start moved) no longer holds
	if verb == "snooze":
		assignments.append("attempts = GREATEST(attempts - 1, 0)")  # a snooze is not a failed attempt
	if target == JobStatus.FINISHED:
		assignments.append("progress_percent = 100")
	if target in TERMINAL:
		assignments.append(_ENDED)
		assignments.append(_RUN_TIME)  # 0 when it never started
	for i, (field, value) in enumerate(fields.items()):
		if not field.isidentifier():
			raise ValueError(f"bad field name {field!r}")
		assignments.append(f"`{field}` = %(f{i})s")
		values[f"f{i}"] = value
	# Observed rows (ledger/observed.py) are Frappe's jobs, not ours: no verb moves them.
	sql = (
		f"UPDATE {TABLE} SET {', '.join(assignments)}"
		" WHERE name = %(name)s AND status IN %(sources)s AND COALESCE(kind, '') <> 'Observed'"
	)
	if attempt is not None:
		sql += " AND attempts = %(attempt)s"
		values["attempt"] = attempt
	return sql, values


def _batch_count(name: str, status: JobStatus, sign: int = 1) -> tuple[str, dict]:
	"""The UPDATE that counts job `name` ending in `status` (sign -1: un-counts it) on its batch, if it has one."""
	values = {
		"name": name,
		"ended": sign,
		"succeeded": sign * (status == JobStatus.FINISHED),
		"failed": sign * (status in FAILED_ENDS),
		"cancelled": sign * (status == JobStatus.CANCELLED),
	}
	# progress_percent first: it reads b.ended before this statement changes it.
	sql = (
		f"UPDATE {BATCH_TABLE} b JOIN {TABLE} j ON j.batch = b.name"
		" SET b.progress_percent = IF(b.total > 0, LEAST(100, 100 * (b.ended + %(ended)s) / b.total), 0),"
		" b.ended = b.ended + %(ended)s, b.succeeded = b.succeeded + %(succeeded)s,"
		" b.failed = b.failed + %(failed)s, b.cancelled = b.cancelled + %(cancelled)s"
		" WHERE j.name = %(name)s"
	)
	return sql, values


def transition(
	name: str,
	verb: str,
	db=None,
	attempt: int | None = None,
	in_batch: bool | None = None,
	log_error=_NO_ERROR,
	**fields,
) -> bool:
	"""Move job `name` by `verb` if its current state allows it; set `fields` in the same statement. The end of an
	attempt names its `attempt`: an older attempt that ends late (the lifeline gave up on it and started the next)
	cannot overwrite a newer one; with `log_error` it is also appended to the attempt log, in the same statement. A caller
	that knows whether the job is a batch child says so (`in_batch`): a job of no batch then costs no batch
	statement. Returns False, changing nothing, when the job is in a state the verb may not leave or has moved on
	to another attempt."""
	db = db or frappe.db
	target = TRANSITIONS[verb][1]
	before = None
	if verb == "requeue":  # leaves an end: un-count that end on the batch (the row lock keeps it stable)
		rows = db.sql(f"SELECT status FROM {TABLE} WHERE name = %s AND batch IS NOT NULL FOR UPDATE", name)
		before = JobStatus(rows[0][0]) if rows else None
	db.sql(*_build(name, verb, attempt, log_error, **fields))
	if not db._cursor.rowcount:
		return False
	if target in TERMINAL and in_batch is not False:
		db.sql(*_batch_count(name, target))
	elif before in TERMINAL:
		db.sql(*_batch_count(name, before, -1))
	return True
