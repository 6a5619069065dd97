"""The engine moved into rooms (async_jobs/engine/<room>/): waiting records batches' planner jobs still name the
planner by its old path in the ledger (`method`, and `job_type`, which is the path for a job without a job type).
Point them at the new one, so the executor can import it when they run.

(A tracked job's RQ job names the executor itself by the old path, async_jobs.engine.executor.run: one queued
before the upgrade fails in RQ at import, and the lifeline enqueues it again with the new path.)"""

import frappe

MOVED = {"async_jobs.engine.batches.plan": "async_jobs.engine.batches.plan.plan"}


def execute():
	for old, new in MOVED.items():
		for field in ("method", "job_type"):
			frappe.db.sql(f"UPDATE `tabAsync Job` SET `{field}` = %s WHERE `{field}` = %s", (new, old))
