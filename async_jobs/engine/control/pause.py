"""Pausing and resuming a queue of the bench (Desk button, API, `bench async-jobs pause|resume QUEUE`): while
paused no job of it starts — tracked or not, on either worker kind — and its waiting jobs keep their place.
The flag lives in Redis (transport/pause.py); the watchdog alerts when a queue stays paused too long."""

import frappe
from frappe import _
from frappe.utils.background_jobs import get_queues_timeout, get_redis_conn

from async_jobs.engine.transport import pause


def check_queue(queue) -> str:
	queues = list(get_queues_timeout())
	if not isinstance(queue, str) or queue not in queues:
		frappe.throw(
			_("queue must be one of the bench's queues ({0}), not {1}").format(", ".join(queues), queue),
			frappe.ValidationError,
		)
	return queue


def pause_queue(queue: str, by: str | None = None) -> dict:
	"""Pause `queue`; returns its pause ({"at", "by"}). Pausing a paused queue keeps its first pause."""
	conn = get_redis_conn()
	pause.pause(conn, check_queue(queue), by or frappe.session.user)
	return pause.paused(conn)[queue]


def resume_queue(queue: str) -> bool:
	"""Resume `queue`; False if it was not paused."""
	return pause.resume(get_redis_conn(), check_queue(queue))


def paused_queues() -> dict[str, dict]:
	return pause.paused(get_redis_conn())
