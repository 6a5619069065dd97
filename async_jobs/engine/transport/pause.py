"""Paused queues: a hash in the queue Redis (`async_jobs:paused`, queue → when and by whom), bench-wide as the
queues are, kept until resumed (worker and stager restarts do not touch it).

While a queue is paused no job of it starts, tracked or not: the workers skip it when they dequeue. Both worker
kinds dequeue through PauseAwareQueue — the fast worker always, `bench worker` (and `bench worker-pool`) once
install_in_frappe() swapped Frappe's Worker class for PauseAwareWorker (async_jobs/commands.py does so for those
two commands). Its jobs stay in RQ, in order, and lose nothing; a job popped in the instant the queue was paused
goes back to the front."""

import json
import time

from rq import Queue, Worker
from rq.exceptions import DequeueTimeout

PAUSED_KEY = "async_jobs:paused"
POLL_SECONDS = 1  # a blocked dequeue looks at the paused queues this often


def short_name(queue_name: str) -> str:
	"""`default` of RQ's `<bench>:default`."""
	return queue_name.rsplit(":", 1)[-1]


def pause(conn, queue: str, by: str) -> bool:
	"""Pause `queue` (a short name); False if it was paused already (its first pause is kept)."""
	return bool(conn.hsetnx(PAUSED_KEY, queue, json.dumps({"at": time.time(), "by": by})))


def resume(conn, queue: str) -> bool:
	return bool(conn.hdel(PAUSED_KEY, queue))


def paused(conn) -> dict[str, dict]:
	"""Paused queues: short name → {"at": epoch seconds, "by": user}."""
	out = {}
	for queue, value in conn.hgetall(PAUSED_KEY).items():
		try:
			out[_text(queue)] = json.loads(value)
		except ValueError:
			out[_text(queue)] = {"at": None, "by": None}
	return out


def _text(value) -> str:
	return value.decode() if isinstance(value, bytes) else value


class PauseAwareQueue(Queue):
	@classmethod
	def dequeue_any(cls, queues, timeout, connection=None, **options):
		"""RQ's dequeue_any over the queues that are not paused, looking again every POLL_SECONDS while it blocks;
		a job taken from a queue paused meanwhile is put back at its front."""
		deadline = None if timeout is None else time.monotonic() + timeout
		while True:
			stopped = set(connection.hkeys(PAUSED_KEY))
			active = [q for q in queues if short_name(q.name).encode() not in stopped]
			left = None if deadline is None else deadline - time.monotonic()
			if left is not None and left <= 0:
				raise DequeueTimeout(timeout, [q.key for q in queues])
			wait = None if left is None else max(1, min(POLL_SECONDS, int(left)))
			if not active:
				if wait is None:
					return None  # burst: nothing it may take
				time.sleep(wait)
				continue
			try:
				result = super().dequeue_any(active, wait, connection=connection, **options)
			except DequeueTimeout:
				continue
			if result is None:
				return None
			job, queue = result
			if connection.hexists(PAUSED_KEY, short_name(queue.name)):
				_put_back(connection, queue, job.id)
				continue
			return result


def _put_back(conn, queue, job_id: str) -> None:
	with conn.pipeline() as pipe:
		pipe.lrem(queue.get_intermediate_queue_key(queue.key), 1, job_id)
		pipe.lpush(queue.key, job_id)
		pipe.execute()


class PauseAwareWorker(Worker):
	queue_class = PauseAwareQueue


def install_in_frappe() -> None:
	"""Make `bench worker` / `bench worker-pool` in this process build pause-aware workers."""
	from frappe.utils import background_jobs
	from rq.worker_pool import WorkerPool

	class PauseAwarePool(WorkerPool):
		def __init__(self, *args, **kwargs):
			kwargs.setdefault("worker_class", PauseAwareWorker)
			super().__init__(*args, **kwargs)

	background_jobs.Worker = PauseAwareWorker
	background_jobs.WorkerPool = PauseAwarePool
