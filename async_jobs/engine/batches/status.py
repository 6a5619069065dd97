"""Batch states and the transitions between them, written through `transition` alone. A batch is sealed when its
planning is over: its total is final from then on."""

from enum import Enum

import frappe
from frappe.utils import now_datetime

TABLE = "`tabAsync Job Batch`"


class BatchStatus(str, Enum):
	PLANNING = "Planning"  # children are still being enqueued; the total is not final
	RUNNING = "Running"
	FINISHED = "Finished"  # every child succeeded
	FAILED = "Failed"  # every child ended, some without success
	CANCELLED = "Cancelled"  # every child ended after a cancel of the batch

	def __str__(self) -> str:
		return self.value


ENDED = frozenset({BatchStatus.FINISHED, BatchStatus.FAILED, BatchStatus.CANCELLED})

# verb → (states it may leave, state it enters)
TRANSITIONS: dict[str, tuple[frozenset[BatchStatus], BatchStatus]] = {
	"seal": (frozenset({BatchStatus.PLANNING}), BatchStatus.RUNNING),
	"succeed": (frozenset({BatchStatus.RUNNING}), BatchStatus.FINISHED),
	"fail": (frozenset({BatchStatus.PLANNING, BatchStatus.RUNNING}), BatchStatus.FAILED),
	"end_cancelled": (frozenset({BatchStatus.PLANNING, BatchStatus.RUNNING}), BatchStatus.CANCELLED),
	"reopen": (frozenset({BatchStatus.FAILED, BatchStatus.CANCELLED}), BatchStatus.RUNNING),
}


def transition(name: str, verb: str, **fields) -> bool:
	"""Compare-and-set the batch's status by `verb` (setting `fields` too); False, changing nothing, if its state
	does not allow the verb."""
	sources, target = TRANSITIONS[verb]
	values = {
		"name": name,
		"target": target.value,
		"now": now_datetime(),
		"sources": tuple(s.value for s in sources),
	}
	sets = ["status = %(target)s", "modified = %(now)s"]
	if target in ENDED:
		sets.append("completed_at = %(now)s")
	if verb == "reopen":
		sets.append("completed_at = NULL")
	for i, (field, value) in enumerate(fields.items()):
		if not field.isidentifier():
			raise ValueError(f"bad field name {field!r}")
		sets.append(f"`{field}` = %(f{i})s")
		values[f"f{i}"] = value
	frappe.db.sql(
		f"UPDATE {TABLE} SET {', '.join(sets)} WHERE name = %(name)s AND status IN %(sources)s",
		values,
	)
	return bool(frappe.db._cursor.rowcount)


def seal(name: str, total: int) -> None:
	"""End the planning of batch `name` with `total` children: Planning → Running."""
	frappe.db.sql(
		f"UPDATE {TABLE} SET total = %(total)s, sealed = 1,"
		" progress_percent = IF(%(total)s > 0, LEAST(100, 100 * ended / %(total)s), 100) WHERE name = %(name)s",
		{"name": name, "total": total},
	)
	transition(name, "seal")
