"""The one step from what a caller gives to the options a tracked job runs with: the job type (looked up once), the
function, queue, timeout, retry policy and notify mode, validated, with the job type's policy where an option is not
given. enqueue(), enqueue_many() and batches all start here."""

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field

import frappe
from frappe import _
from frappe.utils import cint
from frappe.utils.background_jobs import get_queues_timeout

from async_jobs.engine.ledger.status import MAX_TIMEOUT, NOTIFY_MODES
from async_jobs.engine.retry.policy import RetryPolicy
from async_jobs.engine.submit import flow
from async_jobs.engine.submit.flow import FlowOptions
from async_jobs.engine.submit.registry import JobType, get_job_type, is_timeout, job_types

MAX_ARGUMENT_BYTES = 512 * 1024


def method_path(method: str | Callable) -> str:
	if callable(method):
		return f"{method.__module__}.{method.__qualname__}"
	return method


@dataclass(frozen=True)
class Resolved:
	"""Validated options of one or many jobs of one function."""

	spec: JobType | None
	path: str
	queue: str
	timeout: int
	policy: RetryPolicy
	notify: str
	flow: FlowOptions = field(default_factory=FlowOptions)

	def fields(self, at_front, reference_doctype, reference_name, batch) -> dict:
		"""The ledger fields every job of these options shares."""
		return {
			"job_type": self.spec.name if self.spec else self.path,
			"method": self.path,
			"queue": self.queue,
			"timeout": self.timeout,
			"at_front": cint(at_front),
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			"batch": batch,
			"max_attempts": self.policy.max_attempts,
			"notify": self.notify,
			"email_owner": cint(bool(self.spec and self.spec.email_on_finish)),
			"retry_policy": json.dumps(self.policy.to_dict()),
		}


def resolve(
	method: "str | Callable | JobType",
	job_type: str | None = None,
	queue: str | None = None,
	timeout: int | None = None,
	retry=None,
	notify: str | None = None,
	kwargs: dict | None = None,
	flow_given: dict | None = None,
) -> Resolved:
	"""`method` is a dotted path, a function, a JobType or the name of a registered job type. Validates the
	options and `kwargs` (when given) and fills in the queue's timeout. `flow_given`: the call's flow-control
	options (engine/submit/flow.py), over the job type's."""
	spec, path = _job_type(method, job_type)
	queue = queue or (spec.queue if spec else "default")
	timeout = timeout if timeout is not None else (spec.timeout if spec else None)
	check_function(path, queue, timeout)
	if kwargs is not None:
		check_arguments(kwargs)
	policy = _retry_policy(retry if retry is not None else (spec.retry if spec else None))
	notify = notify or (spec.notify if spec else None) or "On Failure"
	if notify not in NOTIFY_MODES:
		frappe.throw(_("notify must be one of {0}").format(", ".join(NOTIFY_MODES)), frappe.ValidationError)
	flow_options = flow.options(spec.flow_options if spec else {}, flow_given or {})
	return Resolved(spec, path, queue, timeout or get_queues_timeout()[queue], policy, notify, flow_options)


def _job_type(method, job_type: str | None) -> tuple[JobType | None, str]:
	"""The job type and the function's path, from the registry built once."""
	if isinstance(method, JobType):
		return method, method.method
	types = job_types() if isinstance(method, str) or job_type else {}
	if isinstance(method, str) and method in types:
		return types[method], types[method].method
	return (get_job_type(job_type, types) if job_type else None), method_path(method)


def check_function(method: str, queue: str, timeout=None) -> None:
	"""`method` must be an importable function, `queue` a queue of the bench, `timeout` (if any) positive."""
	if not isinstance(method, str) or not method:
		frappe.throw(_("A job needs a function to run"), frappe.ValidationError)
	try:
		function = frappe.get_attr(method)
	except Exception:
		function = None
	if not callable(function):
		frappe.throw(
			_("{0} is not an importable function of an installed app").format(method), frappe.ValidationError
		)
	if queue not in get_queues_timeout():
		frappe.throw(_("Unknown queue: {0}").format(queue), frappe.ValidationError)
	if timeout is not None and not is_timeout(timeout):
		frappe.throw(
			_("timeout must be a whole number of seconds from 1 to {0} (a week)").format(MAX_TIMEOUT),
			frappe.ValidationError,
		)


def check_arguments(kwargs) -> bytes:
	"""A job's arguments must be a dict that pickles (RQ stores them pickled) within MAX_ARGUMENT_BYTES; returns
	them pickled."""
	if not isinstance(kwargs, dict):
		frappe.throw(_("Job arguments must be a dictionary"), frappe.ValidationError)
	try:
		pickled = pickle.dumps(kwargs)
	except Exception:
		frappe.throw(
			_("Job arguments must be plain data that can be stored (picklable)"), frappe.ValidationError
		)
	if len(pickled) > MAX_ARGUMENT_BYTES:
		frappe.throw(
			_("Job arguments are {0} KiB; the limit is {1} KiB").format(
				len(pickled) // 1024, MAX_ARGUMENT_BYTES // 1024
			),
			frappe.ValidationError,
		)
	return pickled


def _retry_policy(value) -> RetryPolicy:
	try:
		return RetryPolicy.from_value(value)
	except (TypeError, ValueError) as e:
		frappe.throw(_("Bad retry policy: {0}").format(e), frappe.ValidationError)
