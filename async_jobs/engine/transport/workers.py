"""RQ's workers as any host sees them: which still run, where, and what they hold.

A worker is known by its RQ name (RQ gives each a fresh uuid, so names never repeat across hosts); its host name
and process id are for people to read — process ids repeat from host to host. RQ keeps a worker's key for up to
8 minutes after the worker died (its heartbeat TTL), so RQ's list alone would count a killed host's workers as
running that long. A worker counts as alive while its key lives *and* it listens on its command channel (RQ's
`rq:pubsub:<name>`): that subscription is the worker's own Redis connection, which closes the moment its
process dies, on whichever host. A worker that lost the subscription (its pubsub thread ends when Redis restarts
under it) no longer obeys RQ's commands either, and is reported as not answering.

People read a worker as `host:pid (kind)`: the fast worker marks its RQ hash with its kind (KIND_FIELD), other
workers are `bench worker`s. Each job's start remembers its worker's label for a month (remember()), so a job
that ended, and its attempt log, still say where it ran after RQ forgot the worker."""

import time
from dataclasses import dataclass

from frappe import _
from rq import Worker
from rq.command import PUBSUB_CHANNEL_TEMPLATE


@dataclass(frozen=True)
class WorkerFacts:
	name: str
	hostname: str
	pid: int | None
	queues: tuple[str, ...]  # short names: short, default, long, …
	state: str
	current_job: str | None
	alive: bool
	kind: str = "bench"

	@property
	def where(self) -> str:
		return f"{self.hostname or '?'} pid {self.pid or '?'}"

	@property
	def label(self) -> str:
		return label(self.hostname, self.pid, self.kind)


KIND_FIELD = "async_jobs_kind"  # in RQ's worker hash: "fast" for the fast worker
LABEL_KEY = "async_jobs:worker:{}"  # a worker's label, kept LABEL_TTL after its last job started
LABEL_TTL = 30 * 24 * 3600
KINDS = {"bench": "bench worker", "fast": "fast worker"}


def label(hostname: str | None, pid: int | str | None, kind: str | None) -> str:
	"""`host:pid (kind)`, what the Desk and the CLI show for a worker."""
	kind_text = _(KINDS.get(kind or "bench", kind or "bench"))
	return f"{hostname or '?'}:{pid or '?'} ({kind_text})"


def listening(conn, names: list[str]) -> list[bool]:
	"""For each worker name, whether a connection is subscribed to its command channel (one round trip)."""
	if not names:
		return []
	counts = dict(conn.pubsub_numsub(*(PUBSUB_CHANNEL_TEMPLATE % name for name in names)))
	return [bool(counts.get((PUBSUB_CHANNEL_TEMPLATE % name).encode())) for name in names]


def gather(conn, queue=None) -> list[WorkerFacts]:
	"""Every worker RQ lists (for one queue, or all), alive or not."""
	workers = Worker.all(connection=conn, queue=queue)
	alive = listening(conn, [w.name for w in workers])
	kinds = kinds_of(conn, [w.name for w in workers])
	return [
		WorkerFacts(
			name=w.name,
			hostname=w.hostname or "",
			pid=w.pid,
			queues=tuple(q.rsplit(":", 1)[-1] for q in w.queue_names()),
			state=w.get_state(),
			current_job=w.get_current_job_id(),
			alive=up,
			kind=kind,
		)
		for w, up, kind in zip(workers, alive, kinds, strict=True)
	]


def kinds_of(conn, names: list[str]) -> list[str]:
	"""Each worker's kind, from its RQ hash (one round trip)."""
	if not names:
		return []
	pipe = conn.pipeline(transaction=False)
	for name in names:
		pipe.hget(Worker.redis_worker_namespace_prefix + name, KIND_FIELD)
	return [(k.decode() if k else "bench") for k in pipe.execute()]


_remembered: dict[str, float] = {}  # worker name → when this process last stored its label


def remember(conn, name: str, hostname: str, pid: int, kind: str) -> None:
	"""Keep worker `name`'s label for LABEL_TTL (called as each job starts: one Redis command, made again by the
	same process only after half the TTL — a fast worker's child runs many jobs for one worker)."""
	now = time.monotonic()
	if now - _remembered.get(name, -LABEL_TTL) < LABEL_TTL / 2:
		return
	conn.set(LABEL_KEY.format(name), label(hostname, pid, kind), ex=LABEL_TTL)
	_remembered[name] = now


def labels(conn, names) -> dict[str, str]:
	"""Labels of the given worker names (those still remembered or listed by RQ); unknown names are left out."""
	names = [n for n in dict.fromkeys(names) if n]
	if not names:
		return {}
	kept = conn.mget([LABEL_KEY.format(n) for n in names])
	found = {n: v.decode() for n, v in zip(names, kept, strict=True) if v}
	for name in (n for n in names if n not in found):
		host, pid, kind = conn.hmget(
			Worker.redis_worker_namespace_prefix + name, "hostname", "pid", KIND_FIELD
		)
		if host:
			found[name] = label(host.decode(), pid.decode() if pid else None, kind.decode() if kind else None)
	return found


def alive(conn, queue=None) -> list[WorkerFacts]:
	return [w for w in gather(conn, queue) if w.alive]


def is_alive(conn, name: str | None) -> bool:
	"""Whether the worker of this name still runs (registered and listening), wherever it is."""
	if not name or not conn.exists(Worker.redis_worker_namespace_prefix + name):
		return False
	return listening(conn, [name])[0]


def holds(conn, name: str, rq_id: str) -> bool:
	"""Whether worker `name` is alive and running RQ job `rq_id`."""
	return (
		is_alive(conn, name)
		and conn.hget(Worker.redis_worker_namespace_prefix + name, "current_job") == rq_id.encode()
	)


def describe(conn, name: str | None) -> str:
	"""`worker <name> on <host> (pid <n>)` while RQ lists it, else `worker <name>`: for messages."""
	if not name:
		return "its worker"
	host, pid = conn.hmget(Worker.redis_worker_namespace_prefix + name, "hostname", "pid")
	if not host:
		return f"worker {name}"
	return f"worker {name} on {host.decode()} (pid {pid.decode() if pid else '?'})"
