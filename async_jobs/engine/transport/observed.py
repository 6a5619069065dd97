"""The channel from work horses to the ledger for observed jobs: a Redis list per site on the queue Redis.

A work horse records nothing in the database for a job it only observes: one event when the job ends (plus at
most one a second while it reports progress), in one round trip on the Redis connection RQ already holds. The
stager (about every second) and the lifeline (every pass, also from the site scheduler) take the events off the
list and write them into the ledger in one statement per batch (control/observed.py). The list is capped
(MAX_EVENTS): a site whose events nobody takes (no stager, scheduler off) loses the oldest, never memory.

Observation is switched per site by a flag key (missing = on, the default) that saving the setting writes and
the lifeline puts back when Redis lost it, so a work horse reads one short key instead of the settings.
"""

import json
import uuid
from contextlib import contextmanager

MAX_EVENTS = 100_000
TAKE = 2000  # events per batch
LOCK_SECONDS = 60


def events_key(site: str) -> str:
	return f"async_jobs:observed:{site}"


def flag_key(site: str) -> str:
	return f"async_jobs:observe:{site}"


def _lock_key(site: str) -> str:
	return f"async_jobs:observed-lock:{site}"


def is_on(conn, site: str) -> bool:
	return conn.get(flag_key(site)) != b"0"


def set_flag(conn, site: str, on: bool, only_if_missing: bool = False) -> None:
	conn.set(flag_key(site), "1" if on else "0", nx=only_if_missing)


def encode(event: dict) -> str:
	return json.dumps(event, separators=(",", ":"), default=str)


# One round trip: append the event unless the site's flag says off, and cap the list.
_PUSH = """
if redis.call('GET', KEYS[1]) == '0' then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
"""
_scripts: dict[int, object] = {}


def push(conn, site: str, event: dict) -> bool:
	"""Append one event unless observation is off for the site (one round trip); True if it was appended."""
	script = _scripts.get(id(conn))
	if script is None:
		script = _scripts[id(conn)] = conn.register_script(_PUSH)
	return bool(script(keys=[flag_key(site), events_key(site)], args=[encode(event), MAX_EVENTS]))


def pending(conn, sites: list[str]) -> dict[str, int]:
	"""How many events wait per site (one round trip)."""
	pipe = conn.pipeline(transaction=False)
	for site in sites:
		pipe.llen(events_key(site))
	return {site: count for site, count in zip(sites, pipe.execute(), strict=True) if count}


_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextmanager
def taking(conn, site: str, limit: int = TAKE):
	"""Yield the oldest events of the site (a list of dicts, empty when another process is taking them now); they
	leave the list only when the block ends without an error, so a failed write loses nothing (the next take
	writes them again: every write is idempotent)."""
	token = uuid.uuid4().hex
	if not conn.set(_lock_key(site), token, nx=True, ex=LOCK_SECONDS):
		yield []
		return
	try:
		raw = conn.lrange(events_key(site), 0, limit - 1)
		events = []
		for item in raw:
			try:
				events.append(json.loads(item))
			except ValueError:
				continue
		yield events
		if raw:
			conn.ltrim(events_key(site), len(raw), -1)
	finally:
		conn.eval(_RELEASE, 1, _lock_key(site), token)
