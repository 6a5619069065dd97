"""Control of a batch as a whole: cancel its jobs, retry its failed children. Children are touched one per
transaction: a worker locks its child, then the batch, and so must we (no lock-order deadlock). A request cancels at
most CANCEL_IN_REQUEST children; a job (at the front of the short queue) cancels the rest."""

import frappe

from async_jobs.engine.batches.settle import settle
from async_jobs.engine.batches.status import TABLE, BatchStatus, transition
from async_jobs.engine.batches.view import batch_summary, children
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.control.requeue import requeue_job
from async_jobs.engine.ledger.status import FAILED_ENDS, WAITING, JobStatus
from async_jobs.engine.submit.enqueue import enqueue

CANCEL_IN_REQUEST = 100
ACTIVE = tuple(s.value for s in (*WAITING, JobStatus.STARTED))


def cancel_batch_jobs(name: str, limit: int | None = CANCEL_IN_REQUEST) -> dict:
	"""Stop batch `name`: no more planning, waiting children cancelled, running ones asked to stop — `limit` of
	them here, the rest by a job of its own. Returns the batch's summary."""
	frappe.db.sql(
		f"UPDATE {TABLE} SET cancel_requested = 1 WHERE name = %s AND status IN %s",
		(name, (BatchStatus.PLANNING.value, BatchStatus.RUNNING.value)),
	)
	frappe.db.commit()  # the batch row before its children: children lock first, then the batch
	if _cancel_children(name, limit):
		settle(name)
	else:
		enqueue(
			cancel_rest,
			{"batch": name},
			queue="short",
			at_front=True,
			dedup_key=f"cancel-batch:{name}",
			reference_doctype="Async Job Batch",
			reference_name=name,
		)
		frappe.db.commit()
	return batch_summary(name)


def cancel_rest(batch: str) -> None:
	"""The job that cancels what a request left of a large batch (as whoever cancelled it)."""
	_cancel_children(batch, None)
	settle(batch)


def _cancel_children(name: str, limit: int | None) -> bool:
	"""Cancel up to `limit` (None: all) of the batch's active children; True when none is left to do."""
	done = 0
	for names in children(name, ACTIVE):
		for child in names:
			if limit is not None and done >= limit:
				return False
			cancel_job(child, settle_batch=False)
			frappe.db.commit()  # one child per transaction: workers lock a child, then its batch, too
			done += 1
	return True


def requeue_failed_children(name: str) -> int:
	"""Queue the batch's failed, timed-out, dead and lost children again — and its cancelled ones, when the batch
	itself was cancelled (a retry resumes it); returns how many were queued. A batch with nothing to queue again
	(no such child, or none with its arguments kept) is left as it was."""
	status = frappe.db.get_value("Async Job Batch", name, "status")
	again = {*FAILED_ENDS, *([JobStatus.CANCELLED] if status == BatchStatus.CANCELLED.value else [])}
	statuses = tuple(s.value for s in again)
	if not frappe.db.exists(
		"Async Job", {"batch": name, "status": ["in", statuses], "encrypted_arguments": ["is", "set"]}
	):
		return 0
	transition(name, "reopen")
	frappe.db.sql(f"UPDATE {TABLE} SET cancel_requested = 0 WHERE name = %s", name)
	frappe.db.commit()
	queued = 0
	for names in children(name, statuses):
		for child in names:
			queued += requeue_job(child)
			frappe.db.commit()  # one child per transaction (see cancel)
	settle(name)  # none could be queued after all (a race): the batch ends again
	return queued
