"""Heartbeats of running jobs: a bench-wide sorted set in the queue Redis, member `<site>::<job>`, score = the
time of the last beat. The monitor thread beats; the lifeline reads it to find jobs whose worker is gone.

Both sides read the time from the Redis server, not from their host: a worker and the lifeline that judges it
may run on different machines, and a host whose clock runs behind must not look silent."""

HEARTBEATS = "async_jobs:heartbeats"
BEAT_EVERY = 5.0  # seconds

# ZADD with the server's clock (replicate_commands: Redis 6 allows a write after TIME only in effects mode).
_BEAT = """
redis.replicate_commands()
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], now[1] + now[2] / 1000000, ARGV[1])
"""


def member(site: str, name: str) -> str:
	return f"{site}::{name}"


def beat(conn, site: str, name: str) -> None:
	conn.eval(_BEAT, 1, HEARTBEATS, member(site, name))


def clear(conn, site: str, name: str) -> None:
	conn.zrem(HEARTBEATS, member(site, name))


def silence(conn, site: str, name: str) -> float | None:
	"""Seconds since the job's last beat by the Redis server's clock; None if it never beat (or its beats
	were cleared)."""
	last = conn.zscore(HEARTBEATS, member(site, name))
	if last is None:
		return None
	seconds, micros = conn.time()
	return max(0.0, seconds + micros / 1e6 - last)
