"""Planning a batch: enqueueing its children. An argument-set batch enqueues them all at once; a records batch
one child per chunk of matching records, found by keyset pagination on `name` (the primary key): never OFFSET,
never the whole table in memory. The planner commits as it goes, so it resumes where it stopped."""

import json

import frappe
from frappe import _
from frappe.utils import cint

from async_jobs.engine.batches.settle import settle, stored_arguments
from async_jobs.engine.batches.status import TABLE, seal
from async_jobs.engine.batches.view import publish
from async_jobs.engine.submit.bulk import insert_many
from async_jobs.engine.submit.flow import OPTIONS as FLOW_OPTIONS
from async_jobs.engine.submit.resolve import Resolved, resolve

CHUNK_ARGUMENT = "names"  # a records batch calls its method with the chunk's record names under this key
COMMIT_EVERY = 20  # chunks planned per commit
CHILD_OPTIONS = ("queue", "timeout", "retry", "notify", "at_front", "job_type", *FLOW_OPTIONS)


def children_options(method, options: dict) -> Resolved:
	"""The children's options, resolved once per planning; they notify nobody unless asked (the batch tells the
	owner once, not each child)."""
	return resolve(
		method,
		options.get("job_type"),
		options.get("queue"),
		options.get("timeout"),
		options.get("retry"),
		options.get("notify") or "Never",
		flow_given={option: options.get(option) for option in FLOW_OPTIONS},
	)


def enqueue_children(batch: str, children: Resolved, options: dict, items: list[dict]) -> list[str]:
	return insert_many(children, items, at_front=options.get("at_front", False), batch=batch)


def plan(batch: str) -> int:
	"""Enqueue the children of records batch `batch` chunk by chunk, from where planning last stopped; commits
	every COMMIT_EVERY chunks (children are pushed at each commit). Returns the number of children."""
	row = frappe.db.get_value("Async Job Batch", batch, ["*"], as_dict=True)
	if not row or row.sealed:
		return cint(row and row.total)
	filters = json.loads(row.source_filters or "[]")
	stored = stored_arguments(row.encrypted_callback_arguments)
	child_arguments, options = stored["child"] or {}, stored["options"]
	children = children_options(row.method, options)
	total, last = cint(row.total), row.planned_until
	while True:
		if frappe.db.get_value("Async Job Batch", batch, "cancel_requested"):
			break
		keyset = [[row.source_doctype, "name", ">", last]] if last else []
		names = frappe.get_list(
			row.source_doctype,
			filters=filters + keyset,
			pluck="name",
			order_by="name asc",
			limit_page_length=row.chunk_size,
		)
		if not names:
			break
		enqueue_children(batch, children, options, [{**child_arguments, CHUNK_ARGUMENT: names}])
		total, last = total + 1, names[-1]
		frappe.db.sql(
			f"UPDATE {TABLE} SET total = %s, planned_until = %s WHERE name = %s", (total, last, batch)
		)
		if total % COMMIT_EVERY == 0:
			frappe.db.commit()
			publish(batch)
		if len(names) < row.chunk_size:
			break
	seal(batch, total)
	frappe.db.commit()
	settle(batch)  # children may all have ended before the total was final
	return total


def filter_list(filters) -> list:
	"""Filters as a list of [field, operator, value] (what get_list accepts with the keyset condition added)."""
	if filters in (None, "", {}, []):
		return []
	if isinstance(filters, str):
		try:
			filters = json.loads(filters)
		except ValueError:
			frappe.throw(_("Filters must be JSON"), frappe.ValidationError)
	if isinstance(filters, dict):
		return [
			[field, *value] if isinstance(value, list | tuple) else [field, "=", value]
			for field, value in filters.items()
		]
	if isinstance(filters, list) and all(isinstance(f, list | tuple) for f in filters):
		return [list(f) for f in filters]
	frappe.throw(_("Filters must be a dict or a list of [field, operator, value]"), frappe.ValidationError)
