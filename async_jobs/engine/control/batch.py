"""Control of a batch as a whole: cancel its jobs, retry its failed children. Children are touched one per
transaction: a worker locks its child, then the batch, and so must we (no lock-order deadlock)."""

import frappe

from async_jobs.engine.batches.settle import settle
from async_jobs.engine.batches.status import TABLE, BatchStatus, transition
from async_jobs.engine.batches.view import batch_summary, children
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.control.requeue import requeue_job
from async_jobs.engine.ledger.status import FAILED_ENDS, WAITING, JobStatus


def cancel_batch_jobs(name: str) -> dict:
	"""Stop batch `name`: no more planning, waiting children cancelled, running ones asked to stop. Returns the
	batch's summary."""
	frappe.db.sql(
		f"UPDATE {TABLE} SET cancel_requested = 1 WHERE name = %s AND status IN %s",
		(name, (BatchStatus.PLANNING.value, BatchStatus.RUNNING.value)),
	)
	frappe.db.commit()  # the batch row before its children: children lock first, then the batch
	active = tuple(s.value for s in (*WAITING, JobStatus.STARTED))
	for names in children(name, active):
		for child in names:
			cancel_job(child, settle_batch=False)
			frappe.db.commit()  # one child per transaction: workers lock a child, then its batch, too
	settle(name)
	return batch_summary(name)


def requeue_failed_children(name: str) -> int:
	"""Queue the batch's failed, timed-out, dead and lost children again; returns how many were queued."""
	transition(name, "reopen")
	frappe.db.sql(f"UPDATE {TABLE} SET cancel_requested = 0 WHERE name = %s", name)
	frappe.db.commit()
	queued = 0
	for names in children(name, tuple(s.value for s in FAILED_ENDS)):
		for child in names:
			queued += requeue_job(child)
			frappe.db.commit()  # one child per transaction (see cancel)
	settle(name)  # nothing could be queued again (arguments not kept): the batch ends as it was
	return queued
