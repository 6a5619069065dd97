"""The gate a job with flow-control options passes as a worker takes it, before its start is recorded:

1. expiry — past its expires_at it ends Expired instead of running late;
2. concurrency — it takes a slot of its limit (transport/limits.py), or goes back to the ledger as Held (no RQ
   job: it holds no worker and nothing spins) until held.fill() releases it when a slot frees;
3. rate — its start is recorded in the limit's window (transport/rates.py), or moved to the window's next free
   slot through the delayed set (Scheduled, held_by "rate").

Each check is one Lua script in Redis and one compare-and-set in the ledger, so it holds across workers, queues
and hosts. Jobs without these options never come here (their RQ job says so)."""

from dataclasses import dataclass
from datetime import timedelta

import frappe
from frappe.utils import cint, now_datetime
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.ledger import lifecycle, settings
from async_jobs.engine.ledger.status import HELD_BY_LIMIT, HELD_BY_RATE, WAITING, JobStatus
from async_jobs.engine.run import held
from async_jobs.engine.run.ended import attempt_ended
from async_jobs.engine.submit.flow import parse_rate
from async_jobs.engine.transport import limits, rates
from async_jobs.engine.transport.dispatch import CannotDispatch, dispatch

FIELDS = (
	"name",
	"status",
	"attempts",
	"job_type",
	"expires_at",
	"concurrency_limit",
	"concurrency_key",
	"rate_limit",
	"rate_key",
)


@dataclass
class Pass:
	"""What the gate took for the attempt about to start (given back if the start is not recorded)."""

	name: str
	attempt: int
	slot: str | None = None  # the concurrency group whose slot this attempt holds
	new_slot: bool = False
	rate: str | None = None  # the rate group whose window holds this start
	lease: float = 0.0

	def give_back(self) -> None:
		"""The start was not recorded (cancelled as the worker took it, delivered twice): undo what we took."""
		conn = get_redis_conn()
		if self.slot and self.new_slot:
			limits.release(conn, self.slot, self.name, self.attempt)
		if self.rate:
			rates.unclaim(conn, self.rate, self.name, self.attempt)


def slot_lease() -> float:
	"""How long a running attempt's slot lives without a heartbeat renewing it."""
	return 2 * settings.seconds("lifeline_stale_seconds")


def admit(name: str) -> Pass | None:
	"""Pass job `name` through the gate: a Pass when it may start now, None when it may not (expired, held,
	moved, or no longer waiting). Commits on frappe.db (the job's own transaction has not begun)."""
	rows = frappe.db.sql(
		f"SELECT {', '.join(FIELDS)} FROM `tabAsync Job` WHERE name = %s", name, as_dict=True
	)
	if not rows or JobStatus(rows[0].status) not in WAITING:
		return None
	row, conn = rows[0], get_redis_conn()
	granted = Pass(name, cint(row.attempts) + 1)
	if row.expires_at and now_datetime() >= row.expires_at:
		expire(name, row.expires_at)
		return None
	if row.concurrency_limit:
		granted.slot, granted.lease = held.concurrency_group(row), slot_lease()
		taken, _count = limits.take(
			conn, granted.slot, name, row.concurrency_limit, granted.attempt, granted.lease
		)
		if taken == limits.FULL:
			hold(row)
			return None
		granted.new_slot = taken == limits.NEW
	if row.rate_limit:
		rate = parse_rate(row.rate_limit)
		group = held.rate_group(row)
		wait = rates.claim(conn, group, name, granted.attempt, rate.count, rate.seconds)
		if wait > 0:
			if granted.slot:
				limits.release(conn, granted.slot, name, granted.attempt)
			defer(name, wait)
			if granted.slot:
				held.fill(row.job_type, row.concurrency_key)
			return None
		granted.rate = group
	return granted


def expire(name: str, expires_at) -> None:
	reason = frappe._("Expired: not started by {0}").format(expires_at)
	if lifecycle.transition(name, "expire", error=reason):
		frappe.db.commit()
		attempt_ended(name)
	else:
		frappe.db.rollback()


def hold(row) -> None:
	"""Back to the ledger until a slot frees; then make sure a slot that freed meanwhile is not left idle."""
	if not lifecycle.transition(row.name, "hold", held_by=HELD_BY_LIMIT):
		frappe.db.rollback()
		return
	frappe.db.commit()
	limits.mark_held(get_redis_conn(), held.concurrency_group(row))
	held.fill(row.job_type, row.concurrency_key)


def defer(name: str, wait: float) -> None:
	"""Start later, at the rate limit's next free slot, through the delayed set."""
	run_at = now_datetime() + timedelta(seconds=wait)
	if not lifecycle.transition(name, "defer", run_at=run_at, held_by=HELD_BY_RATE):
		frappe.db.rollback()
		return
	try:
		dispatch(name, run_at)
		frappe.db.commit()
	except CannotDispatch as e:
		frappe.db.rollback()
		held.lose(name, str(e))
