"""Ticks of a cron expression read in a time zone, as the naive system-time datetimes Frappe stores.

A tick is an instant: "30 9 * * *" in America/New_York is 09:30 New York time every day, whatever the system's
time zone (13:30 or 14:30 UTC across daylight saving). croniter steps through wall-clock times of the zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from frappe.utils import get_system_timezone

MAX_COUNT = (
	1000  # missed ticks counted one by one at most (a year of every-minute ticks is counted as this many)
)


def valid_expression(expression: str) -> bool:
	"""Five fields (no seconds field: the stager fires at minute granularity), as croniter reads them."""
	return isinstance(expression, str) and len(expression.split()) == 5 and croniter.is_valid(expression)


def zone(name: str | None) -> ZoneInfo:
	"""The schedule's time zone (the system's when none is given); raises ValueError for an unknown name."""
	try:
		return ZoneInfo(name or get_system_timezone())
	except (ZoneInfoNotFoundError, ValueError, TypeError) as e:
		raise ValueError(f"unknown time zone {name!r}") from e


def _system() -> ZoneInfo:
	return ZoneInfo(get_system_timezone())


def to_zone(moment: datetime, tz: ZoneInfo) -> datetime:
	"""A naive system-time datetime as an aware one in `tz`."""
	return moment.replace(tzinfo=_system()).astimezone(tz)


def _to_system(moment: datetime) -> datetime:
	return moment.astimezone(_system()).replace(tzinfo=None)


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
	"""The wall-clock time in `tz` (naive) at naive system time `moment`."""
	return to_zone(moment, tz).replace(tzinfo=None)


def _instant(wall: datetime, tz: ZoneInfo) -> datetime:
	"""The naive system time of wall-clock time `wall` in `tz`. croniter steps through wall-clock times (given aware
	ones it keeps their offset across a change of daylight saving); each is placed in the zone here. A time the
	clocks skip (02:30 the night they go forward) runs at the same wall-clock time of the old offset (03:30); a
	time they pass twice runs at its first pass."""
	return _to_system(wall.replace(tzinfo=tz))


def next_after(expression: str, tz_name: str | None, moment: datetime, count: int = 1) -> list[datetime]:
	"""The next `count` ticks strictly after `moment` (naive system time), as naive system times."""
	tz = zone(tz_name)
	it = croniter(expression, _wall(moment, tz))
	ticks: list[datetime] = []
	while len(ticks) < count:
		tick = _instant(it.get_next(datetime), tz)
		if tick > moment and (not ticks or tick > ticks[-1]):
			ticks.append(tick)
	return ticks


def latest_at_or_before(expression: str, tz_name: str | None, moment: datetime) -> datetime:
	"""The latest tick at or before `moment`."""
	tz = zone(tz_name)
	it = croniter(expression, _wall(moment, tz) + timedelta(microseconds=1))
	while True:
		tick = _instant(it.get_prev(datetime), tz)
		if tick <= moment:
			return tick


def count_between(expression: str, tz_name: str | None, start: datetime, end: datetime) -> int:
	"""How many ticks fall in [start, end) (at most MAX_COUNT)."""
	tz = zone(tz_name)
	it = croniter(expression, _wall(start, tz) - timedelta(microseconds=1))
	count, last = 0, None
	while count < MAX_COUNT:
		tick = _instant(it.get_next(datetime), tz)
		if tick >= end:
			break
		if tick >= start and tick != last:
			count += 1
		last = tick
	return count
