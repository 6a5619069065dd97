"""Whitelisted endpoints of async_jobs: permission check, one engine call, return.

Guests are refused by @frappe.whitelist itself (none allows guests); argument types are checked by Frappe from the
annotations. Every argument has a default, so a missing one is a clear ValidationError from the engine rather
than Frappe's TypeError (a 500). The core lives in async_jobs.engine.
"""

import frappe

from async_jobs.engine.batches.view import batch_summary, list_active
from async_jobs.engine.control import bulk, pause
from async_jobs.engine.control.batch import cancel_batch_jobs, requeue_failed_children
from async_jobs.engine.control.cancel import cancel_job
from async_jobs.engine.control.requeue import requeue_by_hand, requeue_matching
from async_jobs.engine.health import alerts
from async_jobs.engine.schedules import view as schedule_view
from async_jobs.engine.submit import permissions
from async_jobs.engine.submit.registry import get_job_type
from async_jobs.engine.views import jobs
from async_jobs.engine.views.dashboard import overview


@frappe.whitelist(methods=["POST"])
def enqueue(
	job_type: str | None = None,
	kwargs: str | dict | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
) -> dict:
	"""Start a registered, browser-startable job type; returns the job's summary."""
	spec = get_job_type(job_type)
	permissions.check_can_start(spec, reference_doctype, reference_name)
	return jobs.job_summary(jobs.start_job_type(spec, kwargs, reference_doctype, reference_name))


@frappe.whitelist()
def status(name: str | None = None) -> dict:
	return jobs.job_summary(permissions.get_accessible_job(name))


@frappe.whitelist()
def detail(name: str | None = None) -> dict:
	return jobs.job_detail(permissions.get_accessible_job(name))


@frappe.whitelist()
def my_jobs(
	status: str | None = None,
	job_type: str | None = None,
	queue: str | None = None,
	owner: str | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	limit: int = 20,
	start: int = 0,
	kind: str | None = None,
) -> list[dict]:
	"""The session user's jobs (managers: everyone's, or one owner's), newest first; `kind`: Tracked or Observed."""
	filters = jobs.visible_filters(status, job_type, queue, owner, reference_doctype, reference_name, kind)
	return jobs.list_jobs(filters, limit, start)


@frappe.whitelist(methods=["POST"])
def cancel(name: str | None = None) -> dict:
	job = permissions.get_accessible_job(name)
	cancel_job(job.name)
	return jobs.job_summary(frappe.get_doc("Async Job", job.name))


@frappe.whitelist(methods=["POST"])
def retry(name: str | None = None) -> dict:
	"""Queue a failed, timed-out, dead, cancelled or lost job again (managers; the owner if they may start it)."""
	job = permissions.get_accessible_job(name)
	permissions.check_can_retry(job)
	requeue_by_hand(job.name)
	return jobs.job_summary(frappe.get_doc("Async Job", job.name))


@frappe.whitelist(methods=["POST"])
def retry_matching(
	status: str | None = None, job_type: str | None = None, queue: str | None = None, owner: str | None = None
) -> list[str]:
	"""Retry every retryable job that matches (the session user's own that they may start; managers: anyone's).
	Returns the names."""
	return requeue_matching(jobs.visible_filters(status, job_type, queue, owner))


@frappe.whitelist()
def monitor(
	status: str | None = None,
	job_type: str | None = None,
	queue: str | None = None,
	owner: str | None = None,
	since_hours: int = 24,
	kind: str | None = None,
) -> dict:
	"""The Job Monitor's data: the session user's jobs (managers: everyone's), queues and charts; `kind`: Tracked
	(started through async_jobs) or Observed (Frappe's and other apps' own jobs)."""
	permissions.check_logged_in()
	return overview(
		{"status": status, "job_type": job_type, "queue": queue, "owner": owner, "kind": kind},
		min(max(since_hours, 1), 24 * 31),
	)


@frappe.whitelist()
def startable_job_types(doctype: str | None = None) -> list[dict]:
	"""Job types the session user may start from the browser (for one DocType's form, when given)."""
	permissions.check_logged_in()
	return permissions.startable_for_user(doctype)


@frappe.whitelist()
def batch_status(name: str | None = None) -> dict:
	"""A batch's counts and aggregated progress (the owner or a manager)."""
	return batch_summary(permissions.get_accessible_batch(name).name)


@frappe.whitelist(methods=["POST"])
def cancel_batch(name: str | None = None) -> dict:
	"""Cancel a batch: waiting children are cancelled, running ones asked to stop."""
	return cancel_batch_jobs(permissions.get_accessible_batch(name).name)


@frappe.whitelist(methods=["POST"])
def retry_batch(name: str | None = None) -> dict:
	"""Queue a batch's failed children again; returns the batch and how many were queued."""
	batch = permissions.get_accessible_batch(name)
	permissions.check_can_retry(batch)
	queued = requeue_failed_children(batch.name)
	return {**batch_summary(batch.name), "requeued": queued}


@frappe.whitelist()
def active_batches(reference_doctype: str | None = None, reference_name: str | None = None) -> list[dict]:
	"""Planning or running batches the session user may see (of one document, when given), newest first."""
	permissions.check_logged_in()
	return list_active(reference_doctype, reference_name)


@frappe.whitelist(methods=["POST"])
def acknowledge_alert(name: str | None = None) -> dict:
	"""Mark a watchdog alert as being handled (managers: write permission on the alert)."""
	return alerts.acknowledge(name)


@frappe.whitelist(methods=["POST"])
def snooze_alert(name: str | None = None, until: str | None = None, hours: float | None = None) -> dict:
	"""Silence a watchdog alert until a time (or for some hours); it reopens then if its problem is still there."""
	return alerts.snooze(name, until, hours)


@frappe.whitelist(methods=["POST"])
def retry_jobs(names: str | list | None = None) -> dict:
	"""Retry jobs by name (each checked as `retry`); returns those done and every refused one with its reason."""
	return bulk.apply("retry", names)


@frappe.whitelist(methods=["POST"])
def cancel_jobs(names: str | list | None = None) -> dict:
	"""Cancel jobs by name (each checked as `cancel`); returns those done and every refused one with its reason."""
	return bulk.apply("cancel", names)


@frappe.whitelist()
def schedule_choices() -> dict:
	"""What a schedule's form offers: the registered job types and the time zones (managers)."""
	permissions.check_manager()
	return schedule_view.choices()


@frappe.whitelist()
def schedule_overview(name: str | None = None) -> dict:
	"""A schedule's next runs and recent runs (managers: the only ones who see schedules)."""
	permissions.check_manager()
	return schedule_view.overview(name)


@frappe.whitelist(methods=["POST"])
def pause_queue(queue: str | None = None) -> dict:
	"""Pause a queue of the bench (managers): none of its jobs starts until it is resumed; returns the pause."""
	permissions.check_manager()
	return {"queue": queue, **pause.pause_queue(queue)}


@frappe.whitelist(methods=["POST"])
def resume_queue(queue: str | None = None) -> dict:
	"""Resume a paused queue (managers)."""
	permissions.check_manager()
	return {"queue": queue, "resumed": pause.resume_queue(queue)}
