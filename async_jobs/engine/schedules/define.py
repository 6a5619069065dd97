"""What makes a schedule valid, checked as it is saved (in the Desk, over the REST API, or from hooks): one job
type or method (a method only for managers), arguments that fit the function's signature, a five-field cron
expression, a known time zone and queue, a timeout and attempts in range. Its next run is worked out when it is
enabled or its timing changed."""

import inspect
import json

import frappe
from frappe import _
from frappe.utils import cint, now_datetime

from async_jobs.engine.retry.policy import MAX_ATTEMPTS
from async_jobs.engine.schedules import cron
from async_jobs.engine.submit import permissions
from async_jobs.engine.submit.registry import job_types
from async_jobs.engine.submit.resolve import check_arguments, check_function

TIMING = ("cron", "time_zone", "enabled")


def validate(doc) -> None:
	permissions.check_manager()
	spec = _what_runs(doc)
	doc.queue = doc.queue or (spec.queue if spec else "default")
	method = spec.method if spec else doc.method
	check_function(method, doc.queue, cint(doc.timeout) or None)  # as every enqueue checks them
	_fits_signature(method, arguments(doc.arguments))
	if not cron.valid_expression(doc.cron):
		frappe.throw(
			_(
				"{0} is not a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. */15 * * * *"
			).format(frappe.bold(doc.cron or "")),
			frappe.ValidationError,
		)
	doc.cron = " ".join(doc.cron.split())
	try:
		doc.time_zone = cron.zone(doc.time_zone).key
	except ValueError:
		frappe.throw(_("Unknown time zone: {0}").format(doc.time_zone), frappe.ValidationError)
	if doc.retry_attempts and not 1 <= cint(doc.retry_attempts) <= MAX_ATTEMPTS:
		frappe.throw(_("Attempts must be from 1 to {0}").format(MAX_ATTEMPTS), frappe.ValidationError)
	if doc.is_new() or any(doc.has_value_changed(field) for field in TIMING) or not doc.next_run_at:
		doc.next_run_at = cron.next_after(doc.cron, doc.time_zone, now_datetime())[0] if doc.enabled else None


def _what_runs(doc):
	"""The registered job type, or None for a method; exactly one of the two is given."""
	if bool(doc.job_type) == bool(doc.method):
		frappe.throw(_("Give a job type or a method, not both and not neither"), frappe.ValidationError)
	if doc.job_type:
		spec = job_types().get(doc.job_type)
		if not spec:
			frappe.throw(_("Unknown job type: {0}").format(doc.job_type), frappe.ValidationError)
		return spec
	return None  # a method: check_function judges it


def arguments(text) -> dict:
	"""The schedule's arguments: a JSON object (empty when none are given)."""
	if text in (None, ""):
		return {}
	try:
		value = json.loads(text) if isinstance(text, str) else text
	except ValueError as e:
		frappe.throw(_("Arguments are not valid JSON: {0}").format(e), frappe.ValidationError)
	if not isinstance(value, dict):
		frappe.throw(_("Arguments must be a JSON object of keyword arguments"), frappe.ValidationError)
	check_arguments(value)
	return value


def _fits_signature(method: str, kwargs: dict) -> None:
	function = frappe.get_attr(method)
	try:
		signature = inspect.signature(function)
	except (TypeError, ValueError):
		return  # a builtin without a signature: the run will tell
	try:
		signature.bind(**kwargs)
	except TypeError as e:
		frappe.throw(
			_("The arguments do not fit {0}{1}: {2}").format(method, signature, e), frappe.ValidationError
		)
