"""The only writer of Async Job status: each verb is one compare-and-set UPDATE guarded by the transition table.

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


def _build(name: str, verb: str, attempt: int | None = None, **fields) -> tuple[str, dict]:
	"""The compare-and-set UPDATE for moving job `name` by `verb` (only while `attempt` is its latest attempt, when
	given), as (sql, values)."""
	sources, target = TRANSITIONS[verb]
	now = now_datetime()
	values = {"name": name, "target": target.value, "now": now, "sources": tuple(s.value for s in sources)}
	assignments = ["status = %(target)s", "modified = %(now)s"]
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
	sql = f"UPDATE {TABLE} SET {', '.join(assignments)} WHERE name = %(name)s AND status IN %(sources)s"
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


def transition(name: str, verb: str, db=None, attempt: int | None = None, **fields) -> bool:
	"""Move job `name` by `verb` if its current state allows it; set `fields` in the same statement. The end of an
	attempt names its `attempt`: an older attempt that ends late (the lifeline gave up on it and started the next)
	cannot overwrite a newer one. Returns False, changing nothing, when the job is in a state the verb may not
	leave or has moved on to another attempt."""
	db = db or frappe.db
	target = TRANSITIONS[verb][1]
	before = None
	if verb == "requeue":  # leaves an end: un-count that end on the batch (the row lock keeps it stable)
		rows = db.sql(f"SELECT status FROM {TABLE} WHERE name = %s AND batch IS NOT NULL FOR UPDATE", name)
		before = JobStatus(rows[0][0]) if rows else None
	db.sql(*_build(name, verb, attempt, **fields))
	if not db._cursor.rowcount:
		return False
	if target in TERMINAL:
		db.sql(*_batch_count(name, target))
	elif before in TERMINAL:
		db.sql(*_batch_count(name, before, -1))
	return True
