"""Starting a batch: one Async Job Batch row and many child Async Jobs, with aggregated progress and exactly-once
callbacks (see settle.py).

- `enqueue_batch(method, items)`: one child per argument set.
- `enqueue_for_records(method, doctype, filters)`: one child per chunk of matching records (see plan.py). Planning
  runs as a tracked job on the long queue by default.
"""

import itertools
import json
from collections.abc import Iterable

import frappe
from frappe import _
from frappe.utils import now_datetime

from async_jobs.engine.batches.plan import (
	CHILD_OPTIONS,
	CHUNK_ARGUMENT,
	children_options,
	enqueue_children,
	filter_list,
	plan,
)
from async_jobs.engine.batches.settle import settle
from async_jobs.engine.batches.status import BatchStatus, seal
from async_jobs.engine.batches.view import load
from async_jobs.engine.ledger.arguments import encrypt_arguments
from async_jobs.engine.ledger.redact import redact
from async_jobs.engine.submit.enqueue import enqueue
from async_jobs.engine.submit.resolve import check_function, method_path

MAX_CHUNK = 10_000
ENQUEUE_CHUNK = 500  # argument sets per multi-row INSERT


def enqueue_batch(
	method,
	items: Iterable[dict],
	*,
	title: str | None = None,
	on_success=None,
	on_complete=None,
	on_failure=None,
	callback_kwargs: dict | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	**child_options,
):
	"""One child job per argument set in `items`, enqueued in the caller's transaction (pushed after commit).
	`child_options` are enqueue()'s (queue, timeout, retry, notify, …). Returns the Async Job Batch."""
	batch, options, children = _create(
		method,
		title,
		child_options,
		on_success,
		on_complete,
		on_failure,
		callback_kwargs,
		reference_doctype,
		reference_name,
	)
	total, items = 0, iter(items)
	while chunk := list(itertools.islice(items, ENQUEUE_CHUNK)):
		total += len(enqueue_children(batch.name, children, options, chunk))
	seal(batch.name, total)
	if not total:
		frappe.db.after_commit.add(lambda: settle(batch.name))
	return load(batch.name)


def enqueue_for_records(
	method,
	doctype: str,
	filters=None,
	*,
	chunk_size: int = 100,
	kwargs: dict | None = None,
	background: bool = True,
	title: str | None = None,
	on_success=None,
	on_complete=None,
	on_failure=None,
	callback_kwargs: dict | None = None,
	reference_doctype: str | None = None,
	reference_name: str | None = None,
	**child_options,
):
	"""One child job per chunk of `chunk_size` records of `doctype` matching `filters`; each calls
	`method(names=[...], **kwargs)`. Planning runs as a job on the long queue (background=True) or here, committing
	as it goes. Records are listed with the starting user's permissions. Returns the Async Job Batch."""
	if not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype):
		frappe.throw(_("Unknown DocType: {0}").format(doctype), frappe.ValidationError)
	if not frappe.has_permission(doctype, "read"):
		frappe.throw(_("You may not read {0} records.").format(_(doctype)), frappe.PermissionError)
	if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK:
		frappe.throw(
			_("chunk_size must be a whole number from 1 to {0}").format(MAX_CHUNK), frappe.ValidationError
		)
	if kwargs is not None and not isinstance(kwargs, dict):
		frappe.throw(_("Job arguments must be a dictionary"), frappe.ValidationError)
	if CHUNK_ARGUMENT in (kwargs or {}):
		frappe.throw(
			_("{0} is set by the batch; do not pass it").format(CHUNK_ARGUMENT), frappe.ValidationError
		)
	batch, _options, _children = _create(
		method,
		title or _("{0} over {1}").format(method_path(method).rsplit(".", 1)[-1], _(doctype)),
		child_options,
		on_success,
		on_complete,
		on_failure,
		callback_kwargs,
		reference_doctype,
		reference_name,
		source={
			"source_doctype": doctype,
			"source_filters": json.dumps(filter_list(filters), default=str),
			"chunk_size": chunk_size,
			"child_arguments": kwargs or {},
		},
	)
	if background:
		planner = enqueue(
			plan,
			{"batch": batch.name},
			queue="long",
			reference_doctype="Async Job Batch",
			reference_name=batch.name,
			retry={"max_attempts": 3, "base": 5},
		)
		frappe.db.set_value("Async Job Batch", batch.name, "planner_job", planner.name, update_modified=False)
	else:
		plan(batch.name)
	return load(batch.name)


def _create(
	method,
	title,
	child_options: dict,
	on_success,
	on_complete,
	on_failure,
	callback_kwargs,
	reference_doctype,
	reference_name,
	source: dict | None = None,
):
	"""Insert the batch row; returns it, the children's enqueue options (the job type's name filled in) and those
	options resolved."""
	unknown = set(child_options) - set(CHILD_OPTIONS)
	if unknown:
		frappe.throw(
			_("Unknown batch options: {0}").format(", ".join(sorted(unknown))), frappe.ValidationError
		)
	children = children_options(method, child_options)
	spec, path, queue = children.spec, children.path, children.queue
	if spec:
		child_options = {**child_options, "job_type": spec.name}
	callbacks = {"on_success": on_success, "on_complete": on_complete, "on_failure": on_failure}
	for field, callback in list(callbacks.items()):
		if callback is not None:
			callbacks[field] = method_path(callback)
			check_function(callbacks[field], queue)
	if callback_kwargs is not None and not isinstance(callback_kwargs, dict):
		frappe.throw(_("Callback arguments must be a dictionary"), frappe.ValidationError)
	source = dict(source or {})
	child_arguments = source.pop("child_arguments", None)
	batch = frappe.get_doc(
		{
			"doctype": "Async Job Batch",
			"title": (title or _("{0} batch").format(spec.name if spec else path.rsplit(".", 1)[-1]))[:140],
			"status": BatchStatus.PLANNING.value,
			"job_type": spec.name if spec else path,
			"method": path,
			"queue": queue,
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			"started_at": now_datetime(),
			**{field: value for field, value in callbacks.items() if value},
			"callback_arguments": json.dumps(redact(callback_kwargs or {}), sort_keys=True, default=str),
			"encrypted_callback_arguments": encrypt_arguments(
				{"callback": callback_kwargs or {}, "child": child_arguments, "options": child_options}
			),
			**source,
		}
	)
	batch.name = frappe.generate_hash(length=10)
	batch.set_user_and_timestamp()
	batch.db_insert()
	return batch, child_options, children
