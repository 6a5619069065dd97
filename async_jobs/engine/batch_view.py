"""What clients see of a batch: its handle (counts, status, progress including the running children's own),
the `async_jobs:batch` realtime event, and the list of active batches."""

import frappe
from frappe import _

from async_jobs.engine.batch_status import BatchStatus
from async_jobs.engine.progress import MONITOR_ROOM
from async_jobs.engine.status import JobStatus

TABLE = "`tabAsync Job Batch`"
EVENT = "async_jobs:batch"
PUBLISH_EVERY_MS = 250
HANDLE_FIELDS = (
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


def load(name: str):
	rows = frappe.db.sql(f"SELECT * FROM {TABLE} WHERE name = %s", name, as_dict=True)
	if not rows:
		frappe.throw(_("Async Job Batch {0} not found").format(name), frappe.DoesNotExistError)
	return frappe.get_doc({**rows[0], "doctype": "Async Job Batch"})


def handle(name: str) -> dict:
	"""What a client sees of a batch; progress includes the running children's own progress."""
	row = load(name)
	out = {field: row.get(field) for field in HANDLE_FIELDS}
	if row.total and row.status in (BatchStatus.PLANNING.value, BatchStatus.RUNNING.value):
		running = frappe.db.sql(
			"SELECT COALESCE(SUM(progress_percent), 0) FROM `tabAsync Job` WHERE batch = %s AND status = %s",
			(name, JobStatus.STARTED.value),
		)[0][0]
		out["progress_percent"] = min(100.0, (100.0 * row.ended + float(running)) / row.total)
	return out


def publish(name: str, throttle: bool = False) -> None:
	"""Send the batch's handle to its owner, its reference document's room and the managers (at most every
	PUBLISH_EVERY_MS per batch across all workers when throttled)."""
	if throttle and not frappe.cache.set(
		f"async_jobs:batch_publish:{frappe.local.site}:{name}", 1, nx=True, px=PUBLISH_EVERY_MS
	):
		return
	message = handle(name)
	frappe.publish_realtime(EVENT, message, user=message["owner"], after_commit=False)
	if message["reference_name"]:
		frappe.publish_realtime(
			EVENT,
			message,
			doctype=message["reference_doctype"],
			docname=message["reference_name"],
			after_commit=False,
		)
	frappe.publish_realtime(EVENT, message, doctype="Async Job Batch", docname=name, after_commit=False)
	frappe.publish_realtime(EVENT, message, doctype=MONITOR_ROOM, docname=MONITOR_ROOM, after_commit=False)


def active(
	reference_doctype: str | None = None, reference_name: str | None = None, limit: int = 20
) -> list[dict]:
	"""Planning or running batches the session user may see (permission query applies), newest first."""
	filters = {"status": ["in", [BatchStatus.PLANNING.value, BatchStatus.RUNNING.value]]}
	if reference_doctype and reference_name:
		filters.update(reference_doctype=reference_doctype, reference_name=reference_name)
	names = frappe.get_list(
		"Async Job Batch", filters=filters, pluck="name", order_by="creation desc", limit_page_length=limit
	)
	return [handle(name) for name in names]
