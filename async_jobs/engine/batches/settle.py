"""A batch's children ending: each end is counted on the batch in the transaction that records it (the ledger's
lifecycle), so the counters are exact. When every child has ended, `settle` ends the batch and enqueues its
callbacks: each is claimed by a compare-and-set UPDATE on the batch row in the same transaction as its job's insert,
so it fires exactly once even when the last two children end at the same instant on two workers.
on_complete: every child ended (once). on_success: every child succeeded (once; also after failed children were
retried by hand). on_failure: every child ended and some failed, timed out, died or were lost (once).
"""

import frappe
from frappe import _
from frappe.utils import cint

from async_jobs.engine.batches.status import TABLE, seal, transition
from async_jobs.engine.batches.view import publish
from async_jobs.engine.ledger.arguments import decrypt_arguments
from async_jobs.engine.ledger.status import FAILED_ENDS, JobStatus
from async_jobs.engine.submit.enqueue import enqueue
from async_jobs.engine.submit.permissions import acting_as

# callback field → (job link field, SQL condition on the batch row for it to fire)
CALLBACKS = {
	"on_complete": ("complete_job", "TRUE"),
	"on_success": ("success_job", "succeeded >= total"),
	"on_failure": ("failure_job", "failed > 0"),
}


def child_ended(job: str, batch: str | None = None) -> None:
	"""After a child's end was committed: show the batch's progress and settle it if that was the last child."""
	batch = batch or frappe.db.get_value("Async Job", job, "batch")
	if not batch:
		return
	if not settle(batch):
		publish(batch, throttle=True)


def settle(name: str) -> bool:
	"""End batch `name` and enqueue its callbacks if every child has ended; True if this call ended it or fired a
	callback. Safe to call any number of times, from any process: each effect is claimed by a compare-and-set."""
	row = frappe.db.sql(f"SELECT * FROM {TABLE} WHERE name = %s", name, as_dict=True)
	row = row[0] if row else None
	if not row or not row.sealed or row.ended < row.total:
		return False
	if row.succeeded >= row.total:
		verb = "succeed"
	elif row.cancel_requested:
		verb = "end_cancelled"
	else:
		verb = "fail"
	changed = transition(name, verb, progress_percent=100)
	fired = [kind for kind in CALLBACKS if row.get(kind) and _fire(row, kind)]
	frappe.db.commit()
	if changed or fired:
		publish(name)
	if changed and verb == "fail":
		_notify_failed(row)
		frappe.db.commit()
	if changed:
		from async_jobs.engine.chains.release import parent_ended  # a room above: imported here

		parent_ended("Async Job Batch", name)  # jobs enqueued after this batch
	return changed or bool(fired)


def _fire(row, kind: str) -> bool:
	"""Claim callback `kind` of batch `row` and enqueue it in the same transaction; False if already claimed or
	its condition does not hold (read under the row lock, not from a snapshot)."""
	link, condition = CALLBACKS[kind]
	frappe.db.sql(
		f"UPDATE {TABLE} SET `{link}` = '-' WHERE name = %s AND `{link}` IS NULL"
		f" AND sealed = 1 AND ended >= total AND {condition}",
		row.name,
	)
	if not frappe.db._cursor.rowcount:
		return False
	with acting_as(row.owner):
		job = enqueue(
			row[kind],
			{"batch": row.name, **(stored_arguments(row.encrypted_callback_arguments)["callback"] or {})},
			queue=row.queue,
			reference_doctype="Async Job Batch",
			reference_name=row.name,
		)
	frappe.db.sql(f"UPDATE {TABLE} SET `{link}` = %s WHERE name = %s", (job.name, row.name))
	return True


def _notify_failed(row) -> None:
	"""`row` was read with every child ended: its counts are final."""
	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": row.owner,
			"type": "Alert",
			"subject": _("Batch {0}: {1} of {2} jobs did not succeed").format(
				row.title, row.total - row.succeeded, row.total
			),
			"document_type": "Async Job Batch",
			"document_name": row.name,
			"from_user": row.owner,
		}
	).insert(ignore_permissions=True)


def settle_pending(limit: int = 100) -> int:
	"""Backstop for the lifeline: settle batches whose last child ended where nobody settled (a hard-stopped
	child, a worker that died after committing), and seal batches whose planner ended without sealing."""
	names = frappe.db.sql_list(
		f"SELECT name FROM {TABLE} WHERE status = 'Running' AND sealed = 1 AND ended >= total LIMIT %s", limit
	)
	settled = sum(settle(name) for name in names)
	stalled = frappe.db.sql(
		f"SELECT b.name, j.status, j.error FROM {TABLE} b JOIN `tabAsync Job` j ON j.name = b.planner_job"
		" WHERE b.status = 'Planning' AND b.sealed = 0 AND j.status IN %s LIMIT %s",
		(tuple(s.value for s in (JobStatus.FINISHED, *FAILED_ENDS, JobStatus.CANCELLED)), limit),
	)
	for name, status, error in stalled:
		total = frappe.db.get_value("Async Job Batch", name, "total")
		reason = _("Planning stopped ({0}) after {1} chunks: {2}").format(_(status), total, error or "")
		frappe.db.set_value("Async Job Batch", name, "error", reason[:1000], update_modified=False)
		frappe.db.set_value("Async Job Batch", name, "cancel_requested", 1, update_modified=False)
		seal(name, cint(total))
		frappe.db.commit()
		settled += settle(name)
	return settled


def stored_arguments(encrypted: str | None) -> dict:
	"""The batch's encrypted arguments: callback kwargs, children's kwargs (records batches) and enqueue options."""
	return decrypt_arguments(encrypted) if encrypted else {"callback": {}, "child": {}, "options": {}}
