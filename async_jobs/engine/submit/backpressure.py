"""Backpressure: batches and enqueue_many never fill an RQ queue beyond a bound — 80 % of the site's
`max_queued_jobs` when it is set (newer Frappe refuses frappe.enqueue with QueueOverloaded at that count, so the
rest stays for everyone else), else `async_jobs_queue_bound` from the site config, else DEFAULT_BOUND.

Jobs beyond the bound are inserted Held (held_by "backpressure"), with no RQ job, and a marker in Redis
(`async_jobs:backlog`, "<site>|<queue>" → bound) tells the stager to feed them, oldest first, as the queue drains
(engine/run/held.py: feed)."""

import frappe
from frappe.utils import cint
from frappe.utils.background_jobs import generate_qname, get_redis_conn

BACKLOG_KEY = "async_jobs:backlog"
DEFAULT_BOUND = 10_000
SHARE_OF_MAX_QUEUED = 0.8


def bound() -> int:
	"""How many jobs async_jobs lets a queue hold before it keeps new batch children in the ledger."""
	own = cint(frappe.conf.get("async_jobs_queue_bound"))
	if own > 0:
		return own
	max_queued = cint(frappe.conf.get("max_queued_jobs"))
	if max_queued > 0:
		return max(1, int(max_queued * SHARE_OF_MAX_QUEUED))
	return DEFAULT_BOUND


def member(site: str, queue: str) -> str:
	return f"{site}|{queue}"


def depth(conn, queue: str) -> int:
	return int(conn.llen(f"rq:queue:{generate_qname(queue)}"))


def room(queue: str) -> int:
	"""How many more jobs this transaction may push onto `queue` now. None while jobs of this site already wait
	in the ledger for it: new ones go behind them."""
	conn = get_redis_conn()
	if conn.hexists(BACKLOG_KEY, member(frappe.local.site, queue)):
		return 0
	pending = _pending().get(queue, 0)
	return max(0, bound() - depth(conn, queue) - pending)


def will_push(queue: str, count: int) -> None:
	"""Count jobs this transaction pushes after it commits (room() sees them before they reach RQ)."""
	pending = _pending()
	if not pending:
		frappe.db.after_commit.add(pending.clear)
		frappe.db.after_rollback.add(pending.clear)
	pending[queue] = pending.get(queue, 0) + count


def _pending() -> dict:
	if getattr(frappe.local, "async_jobs_pending_push", None) is None:
		frappe.local.async_jobs_pending_push = {}
	return frappe.local.async_jobs_pending_push


def mark(queue: str) -> None:
	"""Jobs of this site wait in the ledger for `queue` (the stager feeds them)."""
	get_redis_conn().hset(BACKLOG_KEY, member(frappe.local.site, queue), bound())


def unmark(queue: str) -> None:
	get_redis_conn().hdel(BACKLOG_KEY, member(frappe.local.site, queue))


def marked() -> list[tuple[str, str, int]]:
	"""(site, queue, bound) of every queue some site holds jobs back for (bench-wide)."""
	out = []
	for key, value in get_redis_conn().hgetall(BACKLOG_KEY).items():
		site, _, queue = key.decode().partition("|")
		out.append((site, queue, cint(value)))
	return out
