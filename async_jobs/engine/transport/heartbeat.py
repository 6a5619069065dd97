"""Heartbeats of running jobs: a bench-wide sorted set in the queue Redis, member `<site>::<job>`, score = the
time of the last beat. The monitor thread beats; the lifeline reads it to find jobs whose worker is gone."""

import time

HEARTBEATS = "async_jobs:heartbeats"
BEAT_EVERY = 5.0  # seconds


def member(site: str, name: str) -> str:
	return f"{site}::{name}"


def beat(conn, site: str, name: str, now: float | None = None) -> None:
	conn.zadd(HEARTBEATS, {member(site, name): now or time.time()})


def clear(conn, site: str, name: str) -> None:
	conn.zrem(HEARTBEATS, member(site, name))


def last_beat(conn, site: str, name: str) -> float | None:
	return conn.zscore(HEARTBEATS, member(site, name))
