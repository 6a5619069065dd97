"""Firing schedules: the stager (about every second, for the sites due.py names) and the scheduler's minute task
(a backstop when no stager runs) call fire_due. Each due schedule is claimed by a compare-and-set of its
next_run_at, and its run is inserted in the same transaction with a unique key per schedule and tick
(`schedule_tick`): with several stagers on several hosts, one run per tick.

At each firing the schedule's ticks from its next_run_at up to now are looked at: the latest one is run (as the
schedule's owner), unless
- the site's scheduler is disabled or paused, or the site is in maintenance mode (like Frappe's own scheduled jobs),
  and the schedule does not opt out: the tick is skipped;
- earlier ticks were missed (nothing fired schedules: every stager and the scheduler were down) or the latest is
  more than LATE_AFTER late: "Run Once" runs once for them, "Skip" runs only a tick that is still on time;
- its overlap policy is "Skip" and a run of it still waits or runs: the tick is skipped.
What happened is written on the schedule (last_outcome, missed_ticks)."""

import hashlib
import traceback
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import cint, now_datetime
from frappe.utils.scheduler import is_scheduler_inactive

from async_jobs.engine.ledger.redact import redact_text
from async_jobs.engine.ledger.status import WAITING, JobStatus
from async_jobs.engine.schedules import cron, define, due
from async_jobs.engine.submit.permissions import acting_as
from async_jobs.engine.submit.registry import job_types

TABLE = "`tabAsync Job Schedule`"
LATE_AFTER = timedelta(seconds=120)  # a tick fired later than this counts as missed
ACTIVE = tuple(s.value for s in (*WAITING, JobStatus.STARTED))
FIRED, SKIPPED, FAILED = "fired", "skipped", "failed"
DOCTYPE = "Async Job Schedule"


def logger():
	return frappe.logger("async_jobs.schedules", allow_site=False)


def fire_due(now: datetime | None = None) -> dict[str, str]:
	"""Fire every enabled schedule of this site that is due at `now` (naive system time; the clock is injectable
	for tests); returns {schedule: outcome} of those this call claimed. Commits."""
	now = now or now_datetime()
	names = frappe.db.sql_list(
		f"SELECT name FROM {TABLE} WHERE enabled = 1 AND next_run_at <= %s ORDER BY next_run_at", now
	)
	inactive = is_scheduler_inactive()
	outcomes = {}
	for name in names:
		try:
			outcome = fire(name, now, inactive)
		except Exception as e:
			frappe.db.rollback()
			logger().exception(f"could not fire schedule {name}")
			outcome = _failed(name, now, e)
		if outcome:
			outcomes[name] = outcome
	due.mark_site()
	return outcomes


def fire(name: str, now: datetime, scheduler_inactive: bool = False) -> str | None:
	"""Claim schedule `name`'s due ticks and run it for the latest, as its policies say; None when another
	stager claimed them first (or it is no longer due). Commits."""
	rows = frappe.db.sql(
		f"SELECT * FROM {TABLE} WHERE name = %s AND enabled = 1 AND next_run_at <= %s",
		(name, now),
		as_dict=True,
	)
	if not rows:
		return None
	row = rows[0]
	latest = cron.latest_at_or_before(row.cron, row.time_zone, now)
	if latest < row.next_run_at:  # its timing changed since next_run_at was written: no tick is due yet
		latest = row.next_run_at
	missed = cron.count_between(row.cron, row.time_zone, row.next_run_at, latest)
	on_time = now - latest <= LATE_AFTER
	upcoming = cron.next_after(row.cron, row.time_zone, max(now, latest))[0]
	run, outcome = _decide(row, latest, missed, on_time, scheduler_inactive)
	frappe.db.sql(
		f"""UPDATE {TABLE} SET next_run_at = %(upcoming)s, last_tick_at = %(latest)s, last_outcome = %(outcome)s,
		missed_ticks = missed_ticks + %(missed)s WHERE name = %(name)s AND next_run_at = %(due)s""",
		{
			"upcoming": upcoming,
			"latest": latest,
			"outcome": outcome[:1000],
			"missed": missed + (0 if on_time else 1),
			"name": name,
			"due": row.next_run_at,
		},
	)
	if not frappe.db._cursor.rowcount:
		frappe.db.rollback()
		return None  # another stager claimed this tick
	if run:
		job = _run(row, latest)
		if job is None:
			frappe.db.rollback()
			return None
		frappe.db.sql(f"UPDATE {TABLE} SET last_job = %s WHERE name = %s", (job.name, name))
	frappe.db.commit()  # the run is pushed after this commit
	return FIRED if run else SKIPPED


def _failed(name: str, now: datetime, error: Exception) -> str | None:
	"""A schedule that cannot fire (its job type is gone, its arguments no longer fit): the tick is recorded as failed
	on the schedule and in the Error Log, and it moves on to its next tick instead of failing every second."""
	try:
		row = frappe.db.get_value(DOCTYPE, name, ["cron", "time_zone", "next_run_at"], as_dict=True)
		upcoming = cron.next_after(row.cron, row.time_zone, now)[0]
		message = redact_text(
			_("{0}: could not fire: {1}").format(f"{row.next_run_at:%Y-%m-%d %H:%M}", error)
		)
		frappe.db.sql(
			f"UPDATE {TABLE} SET next_run_at = %s, last_outcome = %s WHERE name = %s AND next_run_at = %s",
			(upcoming, message[:1000], name, row.next_run_at),
		)
		frappe.log_error(  # an explicit message: Frappe's own would list every frame's locals, arguments among them
			title=f"Async Job Schedule {name} could not fire",
			message=redact_text(traceback.format_exc()),
			reference_doctype=DOCTYPE,
			reference_name=name,
		)
		frappe.db.commit()
		return FAILED
	except Exception:
		frappe.db.rollback()
		logger().exception(f"could not record the failure of schedule {name}")
		return None


def _decide(row, latest: datetime, missed: int, on_time: bool, scheduler_inactive: bool) -> tuple[bool, str]:
	"""(run it?, what to write on the schedule)."""
	at = f"{latest:%Y-%m-%d %H:%M}"
	if scheduler_inactive and not row.run_when_scheduler_inactive:
		return False, _("{0}: skipped, the site's scheduler is disabled or paused").format(at)
	late = missed + (0 if on_time else 1)
	if late and row.missed_run_policy == "Skip" and not on_time:
		return False, _("{0}: skipped, {1} tick(s) missed while nothing fired schedules").format(at, late)
	previous = _active_run(row.name) if row.overlap_policy != "Run Anyway" else None
	if previous:
		return False, _("{0}: skipped, its run {1} is still {2}").format(at, previous[0], _(previous[1]))
	if late and row.missed_run_policy != "Skip":
		return True, _("{0}: run once for {1} tick(s) missed while nothing fired schedules").format(at, late)
	if late:
		return True, _("{0}: run; {1} earlier tick(s) missed while nothing fired schedules").format(at, late)
	return True, _("{0}: run").format(at)


def _active_run(schedule: str) -> tuple[str, str] | None:
	rows = frappe.db.sql(
		"SELECT name, status FROM `tabAsync Job` WHERE schedule = %s AND status IN %s LIMIT 1",
		(schedule, ACTIVE),
	)
	return tuple(rows[0]) if rows else None


def tick_key(schedule: str, tick: datetime) -> str:
	key = f"{schedule}|{tick:%Y-%m-%d %H:%M}"
	return key if len(key) <= 140 else f"sha1|{hashlib.sha1(key.encode()).hexdigest()}"


def _run(row, tick: datetime):
	"""Enqueue the schedule's run for `tick` as its owner, in this transaction; None when that tick's run exists."""
	from async_jobs.engine.submit.enqueue import enqueue

	spec = job_types().get(row.job_type) if row.job_type else None
	options = {"queue": row.queue, "schedule": row.name, "schedule_tick": tick_key(row.name, tick)}
	if row.timeout:
		options["timeout"] = cint(row.timeout)
	if row.retry_attempts:
		base = spec.retry if spec and isinstance(spec.retry, dict) else {}
		options["retry"] = {**base, "max_attempts": cint(row.retry_attempts)}
	frappe.db.savepoint("async_jobs_schedule_run")
	try:
		with acting_as(row.owner):
			return enqueue(spec or row.method, define.arguments(row.arguments), **options)
	except frappe.UniqueValidationError:
		frappe.db.rollback(save_point="async_jobs_schedule_run")
		frappe.clear_last_message()
		return None
