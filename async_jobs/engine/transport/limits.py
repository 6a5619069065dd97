"""Concurrency slots in the queue Redis, one sorted set per group (a job type and concurrency key of a site):
member = the job's name, score = when its lease ends (the Redis server's clock), and a hash beside it with the
attempt that owns the slot ("0": reserved for a job released from the ledger and on its way to a worker).

Every change is one Lua script, so workers, stagers and lifelines on any host never count past the limit. Leases
end slots whose owner died without a word: a running attempt's lease is renewed by its heartbeat; a reservation
lasts RESERVE_SECONDS. The after-end seam releases a slot the moment its attempt ends (engine/run/ended.py)."""

RESERVE_SECONDS = 300  # a released job may wait this long in its RQ queue before its reserved slot lapses

_PRELUDE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #expired do redis.call('HDEL', KEYS[2], expired[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""

# ARGV: name, owner ("0" = a reservation, else the attempt), limit, lease seconds.
# Returns {2, count} when it took a new slot, {1, count} when the job already held one (now owned by `owner`),
# {0, count} when the group is full.
_TAKE = (
	_PRELUDE
	+ """
local count = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
	redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
	redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
	return {1, count}
end
if count >= tonumber(ARGV[3]) then return {0, count} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('PEXPIRE', KEYS[2], 86400000)
return {2, count + 1}
"""
)

# ARGV: name, owner ("*" = whoever holds it). 0: nothing freed; 1: a slot freed; 2: freed, and jobs are held for
# the group (KEYS[3], set when a job is held), so the caller releases the next one.
_RELEASE = (
	_PRELUDE
	+ """
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if not owner or (ARGV[2] ~= '*' and owner ~= ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1 + redis.call('EXISTS', KEYS[3])
"""
)

# ARGV: name, attempt, lease. Renew the attempt's slot; put it back if Redis lost it (the job does run).
_RENEW = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('PEXPIRE', KEYS[2], 86400000)
return 1
"""

_COUNT = """
local t = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], '(' .. (tonumber(t[1]) + tonumber(t[2]) / 1000000), '+inf')
"""

NEW, HELD_ALREADY, FULL = 2, 1, 0  # take()
FREED_WITH_HELD = 2  # release()


def _keys(group: str) -> tuple[str, str]:
	return f"async_jobs:slots:{group}", f"async_jobs:slots:{group}:owners"


def _held_key(group: str) -> str:
	return f"async_jobs:slots:{group}:held"


def mark_held(conn, group: str) -> None:
	"""Jobs of `group` wait Held: a release then looks for the next one in the ledger."""
	conn.set(_held_key(group), 1, ex=86400)


def unmark_held(conn, group: str) -> None:
	conn.delete(_held_key(group))


def take(conn, group: str, name: str, limit: int, owner: int | str, lease: float) -> tuple[int, int]:
	"""Take (or keep) a slot of `group` for job `name`: (NEW | HELD_ALREADY | FULL, slots taken)."""
	result, count = conn.eval(_TAKE, 2, *_keys(group), name, str(owner), int(limit), float(lease))
	return int(result), int(count)


def reserve(conn, group: str, name: str, limit: int) -> tuple[int, int]:
	return take(conn, group, name, limit, 0, RESERVE_SECONDS)


def release(conn, group: str, name: str, owner: int | str = "*") -> int:
	"""Free job `name`'s slot if `owner` (an attempt, 0 for a reservation, "*" for any) holds it: 0 if it held
	none, 1 if freed, 2 if freed while jobs of the group are held (release the next one)."""
	return int(conn.eval(_RELEASE, 3, *_keys(group), _held_key(group), name, str(owner)))


def renew(conn, group: str, name: str, attempt: int, lease: float) -> bool:
	return bool(conn.eval(_RENEW, 2, *_keys(group), name, str(attempt), float(lease)))


def running(conn, group: str) -> int:
	"""Slots of `group` taken now (running attempts and reservations)."""
	return int(conn.eval(_COUNT, 1, _keys(group)[0]))
