"""After an attempt ended: the one place that tells everyone about it.

Every path that ends an attempt — the executor, the lifeline (an attempt lost with its worker, a job lost for
good), a cancel of a waiting job, the monitor's hard stop — first records the end through lifecycle.transition,
which counts a batch child's end on its batch in the same transaction, and commits. Then it calls
attempt_ended(name), which
- publishes the realtime end: `async_jobs:finished`, or `async_jobs:progress` with the new status when the job runs
  again later (a retry, a snooze);
- shows the batch's progress, or settles the batch when that was its last child;
- notifies the owner by the job's notify mode;
- releases (or cancels) the jobs that waited for it, when it ended for good (engine/chains/release.py);
- frees the job's concurrency slot (and releases the next held job of its limit) and, when it ended for good,
  forgets its reserved rate-limit start.
"""

import frappe
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.batches.settle import child_ended
from async_jobs.engine.chains import release
from async_jobs.engine.chains.plan import JOB
from async_jobs.engine.ledger.status import TERMINAL, JobStatus
from async_jobs.engine.run import held, notify, progress
from async_jobs.engine.transport import limits, rates

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
	"concurrency_limit",
	"concurrency_key",
	"rate_limit",
	"rate_key",
	"has_dependents",
)


def attempt_ended(
	name: str, settle_batch: bool = True, attempt: int | None = None, row: dict | None = None
) -> None:
	"""Tell the owner, the Desk and the batch that an attempt of job `name` ended (its end is committed). A caller
	that ends many children of one batch settles the batch itself once (settle_batch=False). `attempt`: the
	attempt that ended, when one ran (its slot is freed; a job that ended for good frees whatever it held). A
	caller that just wrote the end and knows the row's FIELDS gives them (`row`): no read."""
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
	terminal = JobStatus(job.status) in TERMINAL
	if job.concurrency_limit or job.rate_limit:
		free_limits(job, attempt, terminal)
	progress_fields = (job.progress_done, job.progress_total, job.progress_percent, job.progress_message)
	if not terminal:
		progress.publish(
			progress.EVENT, job, *progress_fields, status=job.status, error=job.error, run_at=str(job.run_at)
		)
		return
	progress.publish(FINISHED, job, *progress_fields, status=job.status, error=job.error)
	if job.batch and settle_batch:
		child_ended(job.name, job.batch)
	notify.job_ended(job)
	if job.get("has_dependents"):
		release.parent_ended(JOB, job.name)


def free_limits(job, attempt: int | None, terminal: bool) -> None:
	"""The slot first, so that the next held job starts while this one's news goes out."""
	try:
		conn = get_redis_conn()
		if job.concurrency_limit:
			owner = "*" if terminal else (attempt or 0)
			if limits.release(conn, held.concurrency_group(job), job.name, owner) == limits.FREED_WITH_HELD:
				held.fill(job.job_type, job.concurrency_key)
		if job.rate_limit and terminal and attempt is None:  # a start removed its reservation already
			group = held.rate_group(job)
			rates.forget(conn, group, job.name)
	except Exception:  # Redis away: leases end the slot; the lifeline releases held jobs
		frappe.db.rollback()
		held.logger().exception(f"could not free the limits of job {job.name}")
