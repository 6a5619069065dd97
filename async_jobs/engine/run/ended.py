"""After an attempt ended: the one place that tells everyone about it.

Every path that ends an attempt — the executor, the lifeline (an attempt lost with its worker, a job lost for
good), a cancel of a waiting job, the monitor's hard stop — first records the end through lifecycle.transition,
which counts a batch child's end on its batch in the same transaction, and commits. Then it calls
attempt_ended(name), which
- publishes the realtime end: `async_jobs:finished`, or `async_jobs:progress` with the new status when the job runs
  again later (a retry, a snooze);
- shows the batch's progress, or settles the batch when that was its last child;
- notifies the owner by the job's notify mode.
"""

import frappe

from async_jobs.engine.batches.settle import child_ended
from async_jobs.engine.ledger.status import TERMINAL, JobStatus
from async_jobs.engine.run import notify, progress

FINISHED = "async_jobs:finished"
FIELDS = (
	*notify.FIELDS,
	"run_at",
	"batch",
	"progress_done",
	"progress_total",
	"progress_percent",
	"progress_message",
	"reference_doctype",
	"reference_name",
)


def attempt_ended(name: str, settle_batch: bool = True, row: dict | None = None) -> None:
	"""Tell the owner, the Desk and the batch that an attempt of job `name` ended (its end is committed). A caller
	that ends many children of one batch settles the batch itself once (settle_batch=False). A caller that just
	wrote the end and knows the row's FIELDS gives them (`row`): no read."""
	rows = (
		[row]
		if row
		else frappe.db.sql(
			f"SELECT {', '.join(FIELDS)} FROM `tabAsync Job` WHERE name = %s", name, as_dict=True
		)
	)
	if not rows:
		return
	job = rows[0]
	progress_fields = (job.progress_done, job.progress_total, job.progress_percent, job.progress_message)
	if JobStatus(job.status) not in TERMINAL:
		progress.publish(
			progress.EVENT, job, *progress_fields, status=job.status, error=job.error, run_at=str(job.run_at)
		)
		return
	progress.publish(FINISHED, job, *progress_fields, status=job.status, error=job.error)
	if job.batch and settle_batch:
		child_ended(job.name, job.batch)
	notify.job_ended(job)
