"""What clients see of a batch: its summary (counts, status, progress including the running children's own),
the `async_jobs:batch` realtime event, the list of active batches, and its children page by page."""

from collections.abc import Iterator

import frappe
from frappe import _

from async_jobs.engine.batches.status import TABLE, BatchStatus
from async_jobs.engine.ledger.status import JobStatus
from async_jobs.engine.transport import realtime

EVENT = "async_jobs:batch"
PUBLISH_EVERY_MS = 250
CHILD_PAGE = 500
SUMMARY_FIELDS = (
	"name",
	"title",
	"status",
	"owner",
	"job_type",
	"queue",
	"total",
	"ended",
	"succeeded",
	"failed",
	"cancelled",
	"sealed",
	"cancel_requested",
	"progress_percent",
	"reference_doctype",
	"reference_name",
	"started_at",
	"completed_at",
	"success_job",
	"complete_job",
	"failure_job",
	"error",
)
# What readers of the document a batch is about see of it (its owner and the managers see everything).
READER_FIELDS = (
	"name",
	"title",
	"status",
	"job_type",
	"total",
	"ended",
	"succeeded",
	"failed",
	"cancelled",
	"sealed",
	"progress_percent",
	"reference_doctype",
	"reference_name",
	"started_at",
	"completed_at",
)


def load(name: str):
	rows = frappe.db.sql(f"SELECT * FROM {TABLE} WHERE name = %s", name, as_dict=True)
	if not rows:
		frappe.throw(_("Async Job Batch {0} not found").format(name), frappe.DoesNotExistError)
	return frappe.get_doc({**rows[0], "doctype": "Async Job Batch"})


def batch_summary(name: str) -> dict:
	"""What a client sees of a batch; progress includes the running children's own progress."""
	row = load(name)
	out = {field: row.get(field) for field in SUMMARY_FIELDS}
	if row.total and row.status in (BatchStatus.PLANNING.value, BatchStatus.RUNNING.value):
		running = frappe.db.sql(
			"SELECT COALESCE(SUM(progress_percent), 0) FROM `tabAsync Job` WHERE batch = %s AND status = %s",
			(name, JobStatus.STARTED.value),
		)[0][0]
		out["progress_percent"] = min(100.0, (100.0 * row.ended + float(running)) / row.total)
	return out


def publish(name: str, throttle: bool = False) -> None:
	"""Send the batch's summary to its owner, its own room and the managers', and what readers may see of it to its
	reference document's room (at most every PUBLISH_EVERY_MS per batch across all workers when throttled)."""
	if throttle and not frappe.cache.set(
		f"async_jobs:batch_publish:{frappe.local.site}:{name}", 1, nx=True, px=PUBLISH_EVERY_MS
	):
		return
	message = batch_summary(name)
	realtime.publish(EVENT, message, message["owner"], ("Async Job Batch", name))
	realtime.publish_to_readers(
		EVENT, message, READER_FIELDS, message["reference_doctype"], message["reference_name"]
	)


def list_active(
	reference_doctype: str | None = None, reference_name: str | None = None, limit: int = 20
) -> list[dict]:
	"""Planning or running batches the session user may see (permission query applies), newest first."""
	filters = {"status": ["in", [BatchStatus.PLANNING.value, BatchStatus.RUNNING.value]]}
	if reference_doctype and reference_name:
		filters.update(reference_doctype=reference_doctype, reference_name=reference_name)
	names = frappe.get_list(
		"Async Job Batch", filters=filters, pluck="name", order_by="creation desc", limit_page_length=limit
	)
	return [batch_summary(name) for name in names]


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
