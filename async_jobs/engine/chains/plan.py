"""The enqueue side of dependencies: which jobs or batches a new job waits for (validated: they exist, are not
observed, and the caller may see them), its policy when one of them fails, the rows that record them, and chains
of steps each enqueued after the one before."""

from collections.abc import Iterable

import frappe
from frappe import _
from frappe.model.document import Document

from async_jobs.engine.ledger.observed import KIND_OBSERVED
from async_jobs.engine.ledger.side_db import SideConnection
from async_jobs.engine.submit import permissions

JOB, BATCH = "Async Job", "Async Job Batch"
MAX_PARENTS = 1000
MAX_STEPS = 1000
POLICIES = ("cancel", "run")  # a parent that did not succeed: cancel the job, or run it anyway
DEP_TABLE = "`tabAsync Job Dependency`"
FIELD = "waits_for"
# Options of a chain that only its first step can take: the later steps start when the one before ends.
FIRST_STEP_ONLY = ("run_at", "delay", "after")


def parents_of(after) -> list[tuple[str, str, str]]:
	"""`after` — a job or batch name or document, or a list of them — as [(doctype, name, status)], validated."""
	if after is None:
		return []
	if isinstance(after, str | Document):
		after = [after]
	if not isinstance(after, list | tuple | set | frozenset):
		frappe.throw(_("after must be a list of Async Job or Async Job Batch names"), frappe.ValidationError)
	names = []
	for item in after:
		name = item.name if isinstance(item, Document) else item
		if not isinstance(name, str) or not name.strip():
			frappe.throw(
				_("after must list Async Job or Async Job Batch names, not {0}").format(repr(item)[:80]),
				frappe.ValidationError,
			)
		if name not in names:
			names.append(name)
	if len(names) > MAX_PARENTS:
		frappe.throw(
			_("A job may wait for at most {0} jobs or batches, not {1}").format(MAX_PARENTS, len(names)),
			frappe.ValidationError,
		)
	if not names:
		return []
	found = _read(names)
	missing = [name for name in names if name not in found]
	if missing:  # committed after this transaction's snapshot began (enqueued with after_commit=False, say):
		# read on a connection of its own, whose snapshot is new. Not a locking read here: the child's insert may
		# go through a side connection that then updates these rows, and would wait for our own lock.
		side = SideConnection()
		try:
			found.update(_read(missing, side.db))
		finally:
			side.close()
	parents = []
	for name in names:
		if name not in found:
			frappe.throw(
				_("after: no Async Job or Async Job Batch {0}").format(name), frappe.DoesNotExistError
			)
		doctype, owner, status, kind = found[name]
		if not permissions.can_access(owner):
			frappe.throw(
				_("after: you may not wait for another user's {0} {1}").format(_(doctype), name),
				frappe.PermissionError,
			)
		if kind == KIND_OBSERVED:
			frappe.throw(
				_(
					"after: job {0} was not started through async_jobs (it is observed); wait for tracked jobs"
				).format(name),
				frappe.ValidationError,
			)
		parents.append((doctype, name, status))
	return parents


def _read(names: list[str], db=None) -> dict[str, tuple]:
	found = {}
	for doctype, extra in ((JOB, ", kind"), (BATCH, ", NULL")):
		for name, owner, status, kind in (db or frappe.db).sql(
			f"SELECT name, owner, status{extra} FROM `tab{doctype}` WHERE name IN %s", [names]
		):
			found.setdefault(name, (doctype, owner, status, kind))
	return found


def policy(on_parent_failure: str | None, parents: list) -> str | None:
	"""The job's policy when a parent does not succeed ("cancel" by default); None for a job with no parents."""
	if on_parent_failure is not None and on_parent_failure not in POLICIES:
		frappe.throw(
			_("on_parent_failure must be one of {0}").format(", ".join(POLICIES)), frappe.ValidationError
		)
	if not parents:
		if on_parent_failure is not None:
			frappe.throw(_("on_parent_failure needs after: the jobs to wait for"), frappe.ValidationError)
		return None
	return on_parent_failure or "cancel"


def record(child: str, parents: list[tuple[str, str, str]], db) -> None:
	"""Write the child's dependency rows and flag its parent jobs as having dependents (their end then looks
	for children to release), in the transaction that inserts the child."""
	now = frappe.utils.now_datetime()
	db.sql(
		f"""INSERT INTO {DEP_TABLE} (name, creation, modified, owner, modified_by, docstatus, parent, parenttype,
		parentfield, idx, depends_on_type, depends_on) VALUES {", ".join(["(%s, %s, %s, %s, %s, 0, %s, %s, %s, %s, %s, %s)"] * len(parents))}""",
		[
			value
			for idx, (doctype, name, _status) in enumerate(parents, 1)
			for value in (
				frappe.generate_hash(length=10),
				now,
				now,
				frappe.session.user,
				frappe.session.user,
				child,
				JOB,
				FIELD,
				idx,
				doctype,
				name,
			)
		],
	)
	jobs = sorted(name for doctype, name, _status in parents if doctype == JOB)
	if jobs:  # sorted: two children flagging the same parents lock them in one order
		db.sql("UPDATE `tabAsync Job` SET has_dependents = 1 WHERE name IN %s AND has_dependents = 0", [jobs])


def steps_of(steps) -> list[tuple]:
	"""A chain's steps as [(method, kwargs, options)]: each given as (method, kwargs), (method, kwargs, options)
	or a dict with method, kwargs and options."""
	if isinstance(steps, str | bytes | dict) or not isinstance(steps, Iterable):
		frappe.throw(_("A chain takes a list of steps: (method, kwargs) pairs"), frappe.ValidationError)
	steps = list(steps)
	if not steps:
		frappe.throw(_("A chain needs at least one step"), frappe.ValidationError)
	if len(steps) > MAX_STEPS:
		frappe.throw(
			_("A chain may have at most {0} steps, not {1}").format(MAX_STEPS, len(steps)),
			frappe.ValidationError,
		)
	parsed = []
	for number, step in enumerate(steps, 1):
		if isinstance(step, dict):
			step = (step.get("method"), step.get("kwargs"), step.get("options"))
		if not isinstance(step, list | tuple) or not 1 <= len(step) <= 3:
			frappe.throw(
				_("Chain step {0} must be (method, kwargs) or (method, kwargs, options)").format(number),
				frappe.ValidationError,
			)
		method, kwargs, options = (*step, None, None)[:3]
		if options is not None and not isinstance(options, dict):
			frappe.throw(
				_("Chain step {0}: its options must be a dictionary").format(number), frappe.ValidationError
			)
		for option in (*FIRST_STEP_ONLY, "on_parent_failure", "chain", "chain_step"):
			if options and option in options:
				frappe.throw(
					_("Chain step {0}: {1} is an option of the whole chain").format(number, option),
					frappe.ValidationError,
				)
		parsed.append((method, kwargs, options or {}))
	return parsed


def chain(steps, on_parent_failure: str = "cancel", **options) -> list:
	"""Enqueue `steps` so that each starts when the one before has ended (see async_jobs.chain); returns the steps'
	Async Job documents. `options` apply to every step (a step's own options over them); run_at, delay and
	after to the first step only."""
	from async_jobs.engine.submit.enqueue import enqueue

	parsed = steps_of(steps)
	policy(on_parent_failure, [("", "", "")])
	first_only = {key: options.pop(key) for key in FIRST_STEP_ONLY if key in options}
	chain_id = frappe.generate_hash(length=10)
	jobs = []
	for number, (method, kwargs, own) in enumerate(parsed, 1):
		step_options = {**options, **own, "chain": chain_id, "chain_step": number}
		if number == 1:
			step_options.update(first_only)
			if first_only.get("after"):
				step_options["on_parent_failure"] = on_parent_failure
		else:
			step_options.update(after=[jobs[-1].name], on_parent_failure=on_parent_failure)
		jobs.append(enqueue(method, kwargs, **step_options))
	return jobs
