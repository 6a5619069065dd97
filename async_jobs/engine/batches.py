"""Batches: one Async Job Batch row and many child Async Jobs, with aggregated progress and exactly-once callbacks.

- `enqueue_batch(method, items)`: one child per argument set.
- `enqueue_for_records(method, doctype, filters)`: one child per chunk of matching records, found by keyset
  pagination on `name` (the primary key): never OFFSET, never the whole table in memory. Planning runs as a
  tracked job on the long queue by default and commits as it goes, so it resumes where it stopped.
- Each child's end is counted on the batch in the transaction that records it (lifecycle.batch_count), so the
  counters are exact. When every child has ended, `settle` ends the batch and enqueues its callbacks: each is
  claimed by a compare-and-set UPDATE on the batch row in the same transaction as its job's insert, so it fires
  exactly once even when the last two children end at the same instant on two workers.
  on_complete: every child ended (once). on_success: every child succeeded (once; also after failed children
  were retried by hand). on_failure: every child ended and some failed, timed out, died or were lost (once).
Control (cancel, retry failed children) is in batch_control.py; what clients see of a batch in batch_view.py.
"""

import itertools
import json
from collections.abc import Iterable
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import cint, now_datetime

from async_jobs.engine import batch_status
from async_jobs.engine.arguments import seal, unseal
from async_jobs.engine.batch_status import BatchStatus
from async_jobs.engine.batch_view import load, publish
from async_jobs.engine.bulk import enqueue_many
from async_jobs.engine.enqueue import _resolve, _validate, enqueue, method_path
from async_jobs.engine.redact import redact
from async_jobs.engine.status import FAILED_ENDS, JobStatus

TABLE = "`tabAsync Job Batch`"
CHUNK_ARGUMENT = "names"  # a records batch calls its method with the chunk's record names under this key
MAX_CHUNK = 10_000
COMMIT_EVERY = 20  # chunks planned per commit
ENQUEUE_CHUNK = 500  # argument sets per multi-row INSERT
# callback field → (job link field, SQL condition on the batch row for it to fire)
CALLBACKS = {
	"on_complete": ("complete_job", "TRUE"),
	"on_success": ("success_job", "succeeded >= total"),
	"on_failure": ("failure_job", "failed > 0"),
}


# Starting a batch


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
	batch, options = _create(
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
		total += len(_enqueue_children(batch.name, batch.method, options, chunk))
	_seal(batch.name, total)
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
	batch, _options = _create(
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
			"source_filters": json.dumps(_filter_list(filters), default=str),
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
	"""Insert the batch row; returns it and the children's enqueue options (the job type's name filled in)."""
	unknown = set(child_options) - {"queue", "timeout", "retry", "notify", "at_front", "job_type"}
	if unknown:
		frappe.throw(
			_("Unknown batch options: {0}").format(", ".join(sorted(unknown))), frappe.ValidationError
		)
	spec, path = _resolve(method, child_options.get("job_type"))
	queue = child_options.get("queue") or (spec.queue if spec else "default")
	if spec:
		child_options = {**child_options, "job_type": spec.name}
	callbacks = {"on_success": on_success, "on_complete": on_complete, "on_failure": on_failure}
	for field, callback in list(callbacks.items()):
		if callback is not None:
			callbacks[field] = method_path(callback)
			_validate(callbacks[field], queue, None, {})
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
			"encrypted_callback_arguments": seal(
				{"callback": callback_kwargs or {}, "child": child_arguments, "options": child_options}
			),
			**source,
		}
	)
	batch.name = frappe.generate_hash(length=10)
	batch.set_user_and_timestamp()
	batch.db_insert()
	return batch, child_options


def _enqueue_children(batch: str, method: str, options: dict, items: list[dict]) -> list[str]:
	return enqueue_many(
		method,
		items,
		batch=batch,
		notify=options.get("notify") or "Never",  # the batch tells the owner once, not each child
		**{k: v for k, v in options.items() if k != "notify"},
	)


def _seal(name: str, total: int) -> None:
	frappe.db.sql(
		f"UPDATE {TABLE} SET total = %(total)s, sealed = 1,"
		" progress_percent = IF(%(total)s > 0, LEAST(100, 100 * ended / %(total)s), 100) WHERE name = %(name)s",
		{"name": name, "total": total},
	)
	batch_status.transition(name, "seal")


# Planning a records batch


def plan(batch: str) -> int:
	"""Enqueue the children of records batch `batch` chunk by chunk, from where planning last stopped; commits
	every COMMIT_EVERY chunks (children are pushed at each commit). Returns the number of children."""
	row = frappe.db.get_value("Async Job Batch", batch, ["*"], as_dict=True)
	if not row or row.sealed:
		return cint(row and row.total)
	filters = json.loads(row.source_filters or "[]")
	sealed = _unsealed(row.encrypted_callback_arguments)
	child_arguments, options = sealed["child"] or {}, sealed["options"]
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
		_enqueue_children(batch, row.method, options, [{**child_arguments, CHUNK_ARGUMENT: names}])
		total, last = total + 1, names[-1]
		frappe.db.sql(
			f"UPDATE {TABLE} SET total = %s, planned_until = %s WHERE name = %s", (total, last, batch)
		)
		if total % COMMIT_EVERY == 0:
			frappe.db.commit()
			publish(batch)
		if len(names) < row.chunk_size:
			break
	_seal(batch, total)
	frappe.db.commit()
	settle(batch)  # children may all have ended before the total was final
	return total


def _filter_list(filters) -> list:
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


# Children ending, settling


def child_ended(job: str, batch: str | None = None) -> None:
	"""After a child's end was committed: show the batch's progress and settle it if that was the last child."""
	batch = batch or frappe.db.get_value("Async Job", job, "batch")
	if not batch:
		return
	if not settle(batch):
		publish(batch, throttle=True)


def settle(name: str) -> bool:
	"""End batch `name` and enqueue its callbacks if every child has ended; True if this call ended it or fired a
	callback. Safe to call any number of times, from any process: each effect is claimed by a compare-and-set."""
	row = frappe.db.sql(f"SELECT * FROM {TABLE} WHERE name = %s", name, as_dict=True)
	row = row[0] if row else None
	if not row or not row.sealed or row.ended < row.total:
		return False
	if row.succeeded >= row.total:
		verb = "succeed"
	elif row.cancel_requested:
		verb = "end_cancelled"
	else:
		verb = "fail"
	changed = batch_status.transition(name, verb, progress_percent=100)
	fired = [kind for kind in CALLBACKS if row.get(kind) and _fire(row, kind)]
	frappe.db.commit()
	if changed or fired:
		publish(name)
	if changed and verb == "fail":
		_notify_failed(row)
		frappe.db.commit()
	return changed or bool(fired)


def _fire(row, kind: str) -> bool:
	"""Claim callback `kind` of batch `row` and enqueue it in the same transaction; False if already claimed or
	its condition does not hold (read under the row lock, not from a snapshot)."""
	link, condition = CALLBACKS[kind]
	frappe.db.sql(
		f"UPDATE {TABLE} SET `{link}` = '-' WHERE name = %s AND `{link}` IS NULL"
		f" AND sealed = 1 AND ended >= total AND {condition}",
		row.name,
	)
	if not frappe.db._cursor.rowcount:
		return False
	with _acting_as(row.owner):
		job = enqueue(
			row[kind],
			{"batch": row.name, **(_unsealed(row.encrypted_callback_arguments)["callback"] or {})},
			queue=row.queue,
			reference_doctype="Async Job Batch",
			reference_name=row.name,
		)
	frappe.db.sql(f"UPDATE {TABLE} SET `{link}` = %s WHERE name = %s", (job.name, row.name))
	return True


@contextmanager
def _acting_as(user: str):
	"""Callbacks run as the batch's owner, whoever settles it (a worker, the lifeline)."""
	previous = frappe.session.user
	if previous != user:
		frappe.set_user(user)
	try:
		yield
	finally:
		if frappe.session.user != previous:
			frappe.set_user(previous)


def _notify_failed(row) -> None:
	"""`row` was read with every child ended: its counts are final."""
	frappe.get_doc(
		{
			"doctype": "Notification Log",
			"for_user": row.owner,
			"type": "Alert",
			"subject": _("Batch {0}: {1} of {2} jobs did not succeed").format(
				row.title, row.failed, row.total
			),
			"document_type": "Async Job Batch",
			"document_name": row.name,
			"from_user": row.owner,
		}
	).insert(ignore_permissions=True)


def settle_pending(limit: int = 100) -> int:
	"""Backstop for the lifeline: settle batches whose last child ended where nobody settled (a hard-stopped
	child, a worker that died after committing), and seal batches whose planner ended without sealing."""
	names = frappe.db.sql_list(
		f"SELECT name FROM {TABLE} WHERE status = 'Running' AND sealed = 1 AND ended >= total LIMIT %s", limit
	)
	settled = sum(settle(name) for name in names)
	stalled = frappe.db.sql(
		f"SELECT b.name, j.status, j.error FROM {TABLE} b JOIN `tabAsync Job` j ON j.name = b.planner_job"
		" WHERE b.status = 'Planning' AND b.sealed = 0 AND j.status IN %s LIMIT %s",
		(tuple(s.value for s in (JobStatus.FINISHED, *FAILED_ENDS, JobStatus.CANCELLED)), limit),
	)
	for name, status, error in stalled:
		total = frappe.db.get_value("Async Job Batch", name, "total")
		reason = _("Planning stopped ({0}) after {1} chunks: {2}").format(_(status), total, error or "")
		frappe.db.set_value("Async Job Batch", name, "error", reason[:1000], update_modified=False)
		frappe.db.set_value("Async Job Batch", name, "cancel_requested", 1, update_modified=False)
		_seal(name, cint(total))
		frappe.db.commit()
		settled += settle(name)
	return settled


def _unsealed(sealed: str | None) -> dict:
	"""The batch's sealed arguments: callback kwargs, children's kwargs (records batches) and enqueue options."""
	return unseal(sealed) if sealed else {"callback": {}, "child": {}, "options": {}}
