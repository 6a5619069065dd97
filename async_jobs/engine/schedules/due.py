"""Which sites have a schedule due: a bench-wide Redis sorted set, site → the epoch second of its earliest next
run. The stager reads it every second and opens only the sites that are due; each site writes its own entry
whenever its schedules change or fire, and the lifeline pass writes it again (should Redis have lost it)."""

import frappe
from frappe.utils import get_system_timezone
from frappe.utils.background_jobs import get_redis_conn

KEY = "async_jobs:schedules_due"


def _epoch(moment) -> float:
	from zoneinfo import ZoneInfo

	return moment.replace(tzinfo=ZoneInfo(get_system_timezone())).timestamp()


def mark_site() -> None:
	"""Record this site's earliest next run (or drop the site when it has no enabled schedule)."""
	earliest = frappe.db.sql(
		"SELECT MIN(next_run_at) FROM `tabAsync Job Schedule` WHERE enabled = 1 AND next_run_at IS NOT NULL"
	)[0][0]
	conn = get_redis_conn()
	if earliest:
		conn.zadd(KEY, {frappe.local.site: _epoch(earliest)})
	else:
		conn.zrem(KEY, frappe.local.site)


def due_sites(now_epoch: float) -> list[str]:
	"""Sites with a schedule due at `now_epoch` (a time.time())."""
	return [
		s.decode() if isinstance(s, bytes) else s
		for s in get_redis_conn().zrangebyscore(KEY, "-inf", now_epoch)
	]
