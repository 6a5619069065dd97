"""Control of a batch as a whole: cancel it, retry its failed children."""

from collections.abc import Iterator

import frappe

from async_jobs.engine import batch_status
from async_jobs.engine.batch_status import BatchStatus
from async_jobs.engine.batch_view import TABLE, handle
from async_jobs.engine.batches import settle
from async_jobs.engine.status import FAILED_ENDS, WAITING, JobStatus

CHILD_PAGE = 500


def cancel(name: str) -> dict:
	"""Stop batch `name`: no more planning, waiting children cancelled, running ones asked to stop."""
	from async_jobs.engine.cancel import cancel as cancel_job

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
	return handle(name)


def retry_failed(name: str) -> int:
	"""Queue the batch's failed, timed-out, dead and lost children again; returns how many were queued."""
	from async_jobs.engine.requeue import requeue

	batch_status.transition(name, "reopen")
	frappe.db.sql(f"UPDATE {TABLE} SET cancel_requested = 0 WHERE name = %s", name)
	frappe.db.commit()
	queued = 0
	for names in children(name, tuple(s.value for s in FAILED_ENDS)):
		for child in names:
			queued += requeue(child)
			frappe.db.commit()  # one child per transaction (see cancel)
	settle(name)  # nothing could be queued again (arguments not kept): the batch ends as it was
	return queued


def children(batch: str, statuses: tuple[str, ...], page: int = CHILD_PAGE) -> Iterator[list[str]]:
	"""Names of the batch's children in `statuses`, page by page (keyset on name over the (batch, status) index)."""
	last = ""
	while True:
		names = frappe.db.sql_list(
			"SELECT name FROM `tabAsync Job` WHERE batch = %s AND status IN %s AND name > %s"
			" ORDER BY name LIMIT %s",
			(batch, statuses, last, page),
		)
		if not names:
			return
		yield names
		last = names[-1]
