"""The attempt log of a job: one entry per attempt (worker, start, end, outcome, error), kept on its row."""

import json

import frappe
from frappe.utils import now_datetime


def attempt_log(name: str, status: str, error: str | None) -> str:
	"""The job's attempts so far plus the one ending now in `status`, as the JSON to store."""
	row = frappe.db.sql(
		"SELECT attempt_log, attempts, worker, started_at FROM `tabAsync Job` WHERE name = %s",
		name,
		as_dict=True,
	)[0]
	log = json.loads(row.attempt_log or "[]")
	log.append(
		{
			"attempt": row.attempts,
			"worker": row.worker,
			"started_at": str(row.started_at),
			"ended_at": str(now_datetime()),
			"status": status,
			"error": error,
		}
	)
	return json.dumps(log, indent=1)
