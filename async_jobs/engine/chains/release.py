"""Jobs waiting for their parents (Held, held_by "after") are released onto their queue — or cancelled, when a
parent did not succeed and their policy is "cancel" — once every parent has ended.

Who looks: the after-end seam of a parent job (run/ended.py), a parent batch as it settles, the child's own
enqueue once committed (a parent may have ended meanwhile) and, every second while a site has such children, the
stager (a parent whose worker read its row before the child flagged it ends without looking); the lifeline pass
is the backstop. Each look reads under locks — the child's row FOR UPDATE, its parents' rows shared, so it sees
their latest committed state whatever its snapshot — and the child leaves Held by compare-and-set: two parents
that end at the same instant on two workers each look after their own end is committed, the later one sees both
ends, and only one look releases the child (exactly one push) or cancels it."""

import frappe
from frappe import _
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.batches.status import ENDED as BATCH_ENDED
from async_jobs.engine.batches.status import BatchStatus
from async_jobs.engine.chains.plan import BATCH, DEP_TABLE, FIELD, JOB
from async_jobs.engine.ledger import lifecycle
from async_jobs.engine.ledger.status import HELD_BY_PARENTS, TERMINAL, JobStatus
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

RELEASED, CANCELLED = "released", "cancelled"
WATCHED = (
	"async_jobs:after_watched"  # Redis set of sites with children waiting for parents (the stager looks)
)
PENDING_LIMIT = 500
_JOB_ENDED = frozenset(s.value for s in TERMINAL)
_BATCH_ENDED = frozenset(s.value for s in BATCH_ENDED)


def logger():
	return frappe.logger("async_jobs.chains", allow_site=False)


def ended(doctype: str, status: str | None) -> bool:
	"""A parent that no longer exists (pruned long after it ended) counts as ended."""
	if status is None:
		return True
	return status in (_JOB_ENDED if doctype == JOB else _BATCH_ENDED)


def succeeded(doctype: str, status: str | None) -> bool:
	return status is None or status == (
		JobStatus.FINISHED.value if doctype == JOB else BatchStatus.FINISHED.value
	)


def parents_state(child: str, lock: bool = False) -> list[tuple[str, str, str | None]]:
	"""[(doctype, name, status)] of what `child` waits for; with `lock`, read shared-locked (latest committed)."""
	deps = frappe.db.sql(
		f"SELECT depends_on_type, depends_on FROM {DEP_TABLE}"
		" WHERE parent = %s AND parenttype = %s AND parentfield = %s ORDER BY idx",
		(child, JOB, FIELD),
	)
	suffix = " LOCK IN SHARE MODE" if lock else ""
	statuses: dict[tuple[str, str], str] = {}
	for doctype in (JOB, BATCH):
		names = [name for kind, name in deps if kind == doctype]
		if names:
			for name, status in frappe.db.sql(
				f"SELECT name, status FROM `tab{doctype}` WHERE name IN %s{suffix}", [names]
			):
				statuses[(doctype, name)] = status
	return [(doctype, name, statuses.get((doctype, name))) for doctype, name in deps]


def check(name: str) -> str | None:
	"""Release or cancel job `name` if it waits for parents that have all ended; commits. Returns "released",
	"cancelled" or None (still waiting, or not waiting for parents)."""
	rows = frappe.db.sql(
		"SELECT status, held_by, on_parent_failure FROM `tabAsync Job` WHERE name = %s FOR UPDATE",
		name,
		as_dict=True,
	)
	if not rows or rows[0].status != JobStatus.HELD.value or rows[0].held_by != HELD_BY_PARENTS:
		frappe.db.commit()
		return None
	parents = parents_state(name, lock=True)
	if any(not ended(doctype, status) for doctype, _name, status in parents):
		frappe.db.commit()
		return None
	failed = [(doctype, p, status) for doctype, p, status in parents if not succeeded(doctype, status)]
	if failed and rows[0].on_parent_failure != "run":
		doctype, parent, status = failed[0]
		reason = _("Cancelled: {0} {1} it waited for ended {2}").format(_(doctype), parent, _(status))
		lifecycle.transition(name, "cancel", error=reason[:1000])
		frappe.db.commit()
		from async_jobs.engine.run.ended import attempt_ended

		attempt_ended(name)  # its own children learn of it in turn
		return CANCELLED
	if not lifecycle.transition(name, "release", queued_at=now_datetime()):
		frappe.db.commit()
		return None
	try:
		dispatch(name)
		frappe.db.commit()
	except CannotDispatch as e:
		frappe.db.rollback()
		from async_jobs.engine.run.held import lose

		lose(name, str(e))
		return None
	return RELEASED


def parent_ended(doctype: str, name: str) -> int:
	"""After the end of parent `name` was committed: look at each child waiting for it; returns how many were
	released or cancelled."""
	children = frappe.db.sql_list(
		f"""SELECT DISTINCT d.parent FROM {DEP_TABLE} d JOIN `tabAsync Job` j ON j.name = d.parent
		WHERE d.depends_on = %s AND d.depends_on_type = %s AND d.parenttype = %s
		AND j.status = %s AND j.held_by = %s""",
		(name, doctype, JOB, JobStatus.HELD.value, HELD_BY_PARENTS),
	)
	return sum(1 for child in children if _check_logged(child))


def _check_logged(child: str) -> str | None:
	try:
		return check(child)
	except Exception:
		frappe.db.rollback()
		logger().exception(f"could not release job {child} after its parents")
		return None


def pending(limit: int = PENDING_LIMIT) -> list[str]:
	"""Children waiting for parents that have all ended (nobody released them yet), oldest first."""
	return frappe.db.sql_list(
		f"""SELECT j.name FROM `tabAsync Job` j WHERE j.status = %(held)s AND j.held_by = %(after)s
		AND NOT EXISTS (
			SELECT 1 FROM {DEP_TABLE} d
			LEFT JOIN `tabAsync Job` p ON d.depends_on_type = %(job)s AND p.name = d.depends_on
			LEFT JOIN `tabAsync Job Batch` b ON d.depends_on_type = %(batch)s AND b.name = d.depends_on
			WHERE d.parent = j.name AND d.parenttype = %(job)s
			AND (p.status NOT IN %(job_ended)s OR b.status NOT IN %(batch_ended)s))
		ORDER BY j.creation LIMIT {int(limit)}""",
		{
			"held": JobStatus.HELD.value,
			"after": HELD_BY_PARENTS,
			"job": JOB,
			"batch": BATCH,
			"job_ended": tuple(_JOB_ENDED),
			"batch_ended": tuple(_BATCH_ENDED),
		},
	)


def release_pending() -> int:
	"""The stager's look and the lifeline's backstop: release or cancel every child whose parents all ended;
	stop watching the site once no child waits for parents."""
	done = sum(1 for child in pending() if _check_logged(child))
	if not frappe.db.sql(
		"SELECT 1 FROM `tabAsync Job` WHERE status = %s AND held_by = %s LIMIT 1",
		(JobStatus.HELD.value, HELD_BY_PARENTS),
	):
		get_redis_conn().srem(WATCHED, frappe.local.site)
	frappe.db.commit()
	return done


def watch() -> None:
	"""This site has children waiting for parents: the stager looks every second (release_pending)."""
	get_redis_conn().sadd(WATCHED, frappe.local.site)


def watched_sites() -> list[str]:
	return sorted(s.decode() if isinstance(s, bytes) else s for s in get_redis_conn().smembers(WATCHED))


def after_enqueue(name: str) -> None:
	"""A child's enqueue was committed: watch the site, and look once (its parents may have ended already). Runs
	after the caller's commit: a failure here (Redis away) is logged, not raised — the lifeline pass releases it."""
	try:
		watch()
		check(name)
	except Exception:
		frappe.db.rollback()
		logger().exception(f"could not look at job {name}'s parents after its enqueue")
