"""The rows of observed jobs — RQ jobs of the site that async_jobs did not enqueue (Frappe's, ERPNext's, every
scheduled job) — and their one writer.

An observed row is named from its RQ id and the time RQ queued that run (`row_name`), so the work horse, the
stager and the lifeline name the same run alike without reading the ledger: Frappe reuses RQ ids (a Scheduled Job
Type's every run is `scheduled_job::<method>`), a run is (id, enqueued_at). Rows are written only by `upsert`: one
multi-row INSERT … ON DUPLICATE KEY UPDATE whose status only moves forward (Queued → Started → an end), and an end,
once written, is never changed. lifecycle.transition (the tracked jobs' state machine) never touches observed rows:
they are not retried, re-pushed, cancelled or recovered by async_jobs.
"""

import hashlib

import frappe
from frappe.utils import now_datetime

from async_jobs.engine.ledger.status import JobStatus

KIND_TRACKED = "Tracked"
KIND_OBSERVED = "Observed"
KINDS = (KIND_TRACKED, KIND_OBSERVED)
PREFIX = "obs-"
ACTIVE = (JobStatus.QUEUED.value, JobStatus.STARTED.value)
OBSERVED_ENDS = (
	JobStatus.FINISHED.value,
	JobStatus.FAILED.value,
	JobStatus.TIMED_OUT.value,
	JobStatus.CANCELLED.value,
	JobStatus.LOST.value,
)

# Columns an observed row can carry, and how a later write treats a value already there.
FIRST_KNOWN = (  # facts of the run: filled once, never replaced
	"job_type",
	"method",
	"queue",
	"timeout",
	"rq_job_id",
	"arguments",
	"queued_at",
	"scheduled_job_type",
	"reference_doctype",
	"reference_name",
)
WHILE_ACTIVE = (  # replaced by newer values while the run has not ended
	"started_at",
	"worker",
	"wait_seconds",
	"ended_at",
	"run_seconds",
	"error",
	"traceback",
	"error_log",
	"progress_done",
	"progress_total",
	"progress_percent",
	"progress_message",
)
COLUMNS = ("status", *FIRST_KNOWN, *WHILE_ACTIVE)
# Frappe makes number columns NOT NULL (default 0): for them 0 stands for "not known" in a write.
NUMBERS = frozenset(
	{"timeout", "wait_seconds", "run_seconds", "progress_done", "progress_total", "progress_percent"}
)
LIMITS = {"error": 1000, "progress_message": 1000, "arguments": 10_000, "traceback": 20_000}


def row_name(rq_id: str, enqueued_at: str | None) -> str:
	"""The ledger name of one run of RQ job `rq_id`: `enqueued_at` as RQ stores it (rq.utils.utcformat)."""
	digest = hashlib.sha1(f"{rq_id}|{enqueued_at or ''}".encode()).hexdigest()
	return PREFIX + digest[:16]


def is_observed_name(name: str | None) -> bool:
	return bool(name) and name.startswith(PREFIX)


def upsert(rows: list[dict], db=None) -> int:
	"""Write observed rows (dicts with `name`, `owner`, `status` and any of COLUMNS; a missing value changes
	nothing) in one statement; the caller commits. Returns the number of rows given."""
	if not rows:
		return 0
	db = db or frappe.db
	now = now_datetime()
	fixed = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "kind")
	fixed += ("attempts", "max_attempts", "notify")
	columns = (*fixed, *COLUMNS)
	values, placeholders = [], []
	for row in rows:
		created = row.get("queued_at") or row.get("started_at") or row.get("ended_at") or now
		attempts = 1 if row.get("started_at") or row["status"] not in ACTIVE else 0
		values += [row["name"], created, now, "Administrator", row.get("owner") or "Administrator", 0, 0]
		values += [KIND_OBSERVED, attempts, 1, "Never"]
		values += [_value(column, row.get(column)) for column in COLUMNS]
		placeholders.append("(" + ", ".join(["%s"] * len(columns)) + ")")
	active = "`kind` = 'Observed' AND `status` IN ('Queued', 'Started')"
	updates = [f"`{c}` = {_known('`' + c + '`', c)}" for c in FIRST_KNOWN]
	updates += [f"`{c}` = IF({active}, {_known(f'VALUES(`{c}`)', c)}, `{c}`)" for c in WHILE_ACTIVE]
	updates += [
		f"`attempts` = IF({active}, GREATEST(`attempts`, VALUES(`attempts`)), `attempts`)",
		f"`modified` = IF({active}, VALUES(`modified`), `modified`)",
		# Last: every assignment above reads the status the row had before this statement.
		"`status` = IF(`kind` = 'Observed' AND (`status` = 'Queued' OR (`status` = 'Started'"
		" AND VALUES(`status`) NOT IN ('Queued', 'Started'))), VALUES(`status`), `status`)",
	]
	db.sql(
		f"INSERT INTO `tabAsync Job` ({', '.join(f'`{c}`' for c in columns)}) VALUES {', '.join(placeholders)}"
		f" ON DUPLICATE KEY UPDATE {', '.join(updates)}",
		values,
	)
	return len(rows)


def _known(first: str, column: str) -> str:
	"""SQL for `first` if it holds a value, else the other of (the row's value, the new value)."""
	other = f"VALUES(`{column}`)" if first.startswith("`") else f"`{column}`"
	if column in NUMBERS:
		return f"IF({first} <> 0, {first}, {other})"
	return f"COALESCE({first}, {other})"


def _value(column: str, value):
	if value is None:
		return 0 if column in NUMBERS else None
	limit = LIMITS.get(column)
	if limit and isinstance(value, str) and len(value) > limit:
		return value[-limit:] if column == "traceback" else value[:limit]
	return value
