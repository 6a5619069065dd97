"""Rate limits as sliding windows in the queue Redis: one sorted set per group (a job type and rate key of a
site) of starts (`s:<job>:<attempt>`, score = when it started) and of reserved future starts (`r:<job>`, score =
the start a refused job was moved to). Both on the Redis server's clock, one Lua script per decision.

A start is allowed while fewer than `count` starts fall in the last `window` seconds (plus MARGIN, for the moment
between this decision and the start the job records). A refused start is given the earliest instant at which a
window of `window` · PLAN_FACTOR seconds holds fewer than `count` starts and reservations — later refusals queue
up behind it — and waits for it in the delayed set; at that instant its start is decided again."""

MARGIN = 0.02  # of the window (at most MAX_MARGIN seconds): enforcement is a little stricter than the limit
MAX_MARGIN = 0.25
PLAN_FACTOR = (
	1.1  # reservations are spread over slightly longer windows, so a late start rarely meets a full one
)

# KEYS[1] the set. ARGV: job, attempt, count, window (enforced), plan window.
# Returns 0 when the start may go now (and records it), else the seconds until its reserved slot.
_CLAIM = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local count, window, plan = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - math.max(window, plan) - 1)
redis.call('ZREM', KEYS[1], 'r:' .. ARGV[1])
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), now)
local started = 0
for i = 1, #recent do
	if string.sub(recent[i], 1, 2) == 's:' then started = started + 1 end
end
redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(window, plan) + 60) * 1000))
if started < count then
	redis.call('ZADD', KEYS[1], now, 's:' .. ARGV[1] .. ':' .. ARGV[2])
	return '0'
end
local m = redis.call('ZCARD', KEYS[1])
local at = now
local pivot = redis.call('ZRANGE', KEYS[1], m - count, m - count, 'WITHSCORES')
if pivot[2] then at = math.max(now, tonumber(pivot[2]) + plan) end
at = math.max(at, now + 0.001)
redis.call('ZADD', KEYS[1], at, 'r:' .. ARGV[1])
return tostring(at - now)
"""

# ARGV: count, plan window, not before (epoch seconds, 0: now), then the jobs. Reserves each job the earliest start
# from `not before` on at which no plan window holds more than `count` starts and reservations; returns the
# seconds from now to each (0 for those that may start at once).
_RESERVE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local count, plan, nb = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - plan - 1)
local out = {}
for i = 4, #ARGV do
	local m = redis.call('ZCARD', KEYS[1])
	local at = math.max(now, nb)
	if m >= count then
		local pivot = redis.call('ZRANGE', KEYS[1], m - count, m - count, 'WITHSCORES')
		at = math.max(at, tonumber(pivot[2]) + plan)
	end
	redis.call('ZADD', KEYS[1], at, 'r:' .. ARGV[i])
	out[#out + 1] = tostring(at - now)
end
redis.call('PEXPIRE', KEYS[1], math.ceil((plan + 60) * 1000))
return out
"""

# ARGV: job. Forget its reservation (it ended without starting).
_FORGET = "return redis.call('ZREM', KEYS[1], 'r:' .. ARGV[1])"

# ARGV: window. Starts in the last `window` seconds.
_RECENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - tonumber(ARGV[1])), now)
local started = 0
for i = 1, #recent do
	if string.sub(recent[i], 1, 2) == 's:' then started = started + 1 end
end
return started
"""


def _key(group: str) -> str:
	return f"async_jobs:rate:{group}"


def windows(seconds: float) -> tuple[float, float]:
	"""(enforced window, planning window) for a limit over `seconds`."""
	return seconds + min(seconds * MARGIN, MAX_MARGIN), seconds * PLAN_FACTOR


def claim(conn, group: str, name: str, attempt: int, count: int, seconds: float) -> float:
	"""Record a start of job `name` now if the limit allows it and return 0; else the seconds to wait."""
	enforced, plan = windows(seconds)
	return float(conn.eval(_CLAIM, 1, _key(group), name, str(attempt), int(count), enforced, plan))


def reserve(
	conn, group: str, names: list[str], count: int, seconds: float, not_before: float = 0
) -> list[float]:
	"""Plan the starts of jobs being enqueued (in order): the seconds from now until each may start, so that they
	reach the workers spread out instead of being refused there one after another."""
	if not names:
		return []
	_enforced, plan = windows(seconds)
	delays = conn.eval(_RESERVE, 1, _key(group), int(count), plan, float(not_before), *names)
	return [float(d) for d in delays]


def unclaim(conn, group: str, name: str, attempt: int) -> None:
	"""Take back a start that did not happen (the job was cancelled as a worker took it)."""
	conn.zrem(_key(group), f"s:{name}:{attempt}")


def forget(conn, group: str, name: str) -> None:
	conn.eval(_FORGET, 1, _key(group), name)


def recent_starts(conn, group: str, seconds: float) -> int:
	return int(conn.eval(_RECENT, 1, _key(group), float(seconds)))
