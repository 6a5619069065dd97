"""Reading and starting jobs for the API: summaries (what a client sees of a job), lists, browser starts."""

import json

import frappe
from frappe import _
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.ledger.observed import KINDS
from async_jobs.engine.ledger.status import JobStatus
from async_jobs.engine.submit import permissions
from async_jobs.engine.submit.enqueue import enqueue
from async_jobs.engine.submit.registry import JobType
from async_jobs.engine.transport import workers as rq_workers

SUMMARY_FIELDS = (
	"name",
	"job_type",
	"status",
	"kind",
	"queue",
	"owner",
	"progress_percent",
	"progress_done",
	"progress_total",
	"progress_message",
	"creation",
	"run_at",
	"queued_at",
	"started_at",
	"ended_at",
	"wait_seconds",
	"run_seconds",
	"attempts",
	"error",
	"reference_doctype",
	"reference_name",
	"cancel_requested",
)
DETAIL_FIELDS = (
	*SUMMARY_FIELDS,
	"method",
	"timeout",
	"worker",
	"arguments",
	"result",
	"traceback",
	"error_log",
	"rq_job_id",
	"scheduled_job_type",
)
MAX_LIST = 500


def job_summary(job) -> dict:
	return {field: job.get(field) for field in SUMMARY_FIELDS}


def job_detail(job) -> dict:
	"""The summary plus what only the owner and managers see; `worker_label` names the worker as people read it
	(`host:pid (kind)`), and each attempt of `attempt_log` gets its worker's label too."""
	detail = {field: job.get(field) for field in DETAIL_FIELDS}
	try:
		attempts = json.loads(job.get("attempt_log") or "[]")
	except ValueError:
		attempts = []
	known = rq_workers.labels(get_redis_conn(), [job.get("worker"), *(a.get("worker") for a in attempts)])
	detail["worker_label"] = known.get(job.get("worker")) or job.get("worker")
	detail["attempts_log"] = [
		{**a, "worker_label": known.get(a.get("worker")) or a.get("worker")} for a in attempts
	]
	return detail


def parse_kwargs(kwargs) -> dict:
	if kwargs in (None, ""):
		return {}
	if isinstance(kwargs, str):
		try:
			kwargs = frappe.parse_json(kwargs)
		except Exception:
			frappe.throw(_("kwargs must be a JSON object"), frappe.ValidationError)
	if not isinstance(kwargs, dict):
		frappe.throw(_("kwargs must be a JSON object"), frappe.ValidationError)
	return kwargs


def start_job_type(spec: JobType, kwargs, reference_doctype: str | None, reference_name: str | None):
	"""Enqueue a job type for the browser (permission already checked), bound to the document it was checked on."""
	return enqueue(
		spec,
		permissions.bound_arguments(spec, parse_kwargs(kwargs), reference_name),
		reference_doctype=reference_doctype,
		reference_name=reference_name,
		notify=spec.notify or "Always",  # the user pressed a button: tell them how it went
	)


def visible_filters(
	status: str | None = None,
	job_type: str | None = None,
	queue: str | None = None,
	owner: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	kind: str | None = None,
) -> dict:
	"""Filters for the jobs the session user may see: own jobs, or (managers) anyone's. Checks permission.
	`kind`: Tracked (started through async_jobs) or Observed (any other job of the site)."""
	permissions.check_logged_in()
	if status and status not in {s.value for s in JobStatus}:
		frappe.throw(_("Unknown status: {0}").format(status), frappe.ValidationError)
	if kind and kind not in KINDS:
		frappe.throw(_("Unknown kind: {0} (Tracked or Observed)").format(kind), frappe.ValidationError)
	filters = {
		key: value
		for key, value in {
			"status": status,
			"job_type": job_type,
			"queue": queue,
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			"kind": kind,
		}.items()
		if value
	}
	if not permissions.is_manager():
		if owner and owner != frappe.session.user:
			frappe.throw(_("You may see only your own jobs."), frappe.PermissionError)
		owner = frappe.session.user
	if owner:
		filters["owner"] = owner
	return filters


def list_jobs(filters: dict, limit: int = 20, start: int = 0) -> list[dict]:
	"""Jobs matching `filters` (from visible_filters, which checks permission), newest first."""
	if not 1 <= limit <= MAX_LIST or start < 0:
		frappe.throw(
			_("limit must be 1 to {0} and start not negative").format(MAX_LIST), frappe.ValidationError
		)
	return frappe.get_all(
		"Async Job",
		filters=filters,
		fields=list(SUMMARY_FIELDS),
		order_by="creation desc",
		limit_start=start,
		limit_page_length=limit,
	)
