"""The stager process (`bench async-jobs stager`, one per bench or per host): moves due delayed jobs onto their
queues about every second (and jobs held back by backpressure as their queues drain, and jobs whose parents
ended), writes the observed jobs'
events into each site's ledger about every second, fires Async Job Schedules as they come due, and runs the lifeline over every site with async_jobs every few
seconds — and the watchdog every 5 minutes, so that a disabled or stuck scheduler (which cannot report itself) is
still noticed."""

import time

import frappe
from frappe.utils import get_sites
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.chains import release
from async_jobs.engine.control import lifeline, observed
from async_jobs.engine.health import watchdog
from async_jobs.engine.ops import operations
from async_jobs.engine.run import held
from async_jobs.engine.schedules import due as schedules_due
from async_jobs.engine.schedules import fire as schedule_fire
from async_jobs.engine.transport import delayed
from async_jobs.engine.transport import observed as observed_channel

logger = frappe.logger("async_jobs.stager", allow_site=False)


WATCHDOG_EVERY = 300.0  # seconds; the first pass comes after one interval, not at start


def run_stager(interval: float = 1.0, lifeline_every: float = 10.0, stop=lambda: False) -> None:
	next_lifeline = 0.0
	next_watchdog = time.monotonic() + WATCHDOG_EVERY
	while not stop():
		wait = interval
		try:
			with frappe.init_site():
				get_redis_conn().set(
					delayed.STAGER_KEY, time.time(), ex=10
				)  # the dashboard's "is a stager running?"
				delayed.stage_due()
				due = delayed.next_due()
				wait = interval if due is None else min(interval, max(0.05, due))
				observing = observed_channel.pending(get_redis_conn(), list(_observing_sites))
				feeding = held.feed_due()
				waiting_sites = release.watched_sites()
				scheduling = schedules_due.due_sites(time.time())
		except Exception:
			observing, feeding, waiting_sites, scheduling = {}, [], [], []
			logger.exception("staging delayed jobs failed")  # Redis restarting: try again next round
		record_observed(observing)
		if feeding:
			held.feed_sites(feeding)  # jobs held back by backpressure, as their queues drain
		release_waiting(waiting_sites)
		fire_schedules(scheduling)
		if time.monotonic() >= next_lifeline:
			reconcile_all_sites()
			next_lifeline = time.monotonic() + lifeline_every
		if time.monotonic() >= next_watchdog:
			watch_all_sites()
			next_watchdog = time.monotonic() + WATCHDOG_EVERY
		time.sleep(wait)


_last_recovery: dict[str, float] = {}
_observing_sites: set[str] = set()  # sites with async_jobs, as the last lifeline pass found them


def in_each_site(sites, work, what: str) -> None:
	"""Run work() in each site's context (the stager runs outside any site); a site's failure is logged, not fatal."""
	for site in sites:
		try:
			frappe.init(site=site)
			frappe.connect()
			work()
		except Exception:
			logger.exception(f"{what} failed for {site}")
		finally:
			frappe.destroy()


def record_observed(sites: dict[str, int]) -> None:
	"""Write the observed jobs' events of each site that has some into its ledger (about every second)."""
	in_each_site(sites, observed.record, "recording observed jobs")


def fire_schedules(sites: list[str]) -> None:
	"""Fire the due Async Job Schedules of each site that has one due (due.py names them)."""
	in_each_site(sites, schedule_fire.fire_due, "firing schedules")


def release_waiting(sites: list[str]) -> None:
	"""Children waiting for parents that have all ended, in each site that has such children (about every second;
	the parents' ends release them at once, this catches an end that did not look)."""
	in_each_site(sites, release.release_pending, "releasing jobs after their parents")


def reconcile_all_sites() -> dict[str, dict]:
	"""A lifeline pass per site. Started jobs are checked every pass; the scan of waiting jobs for vanished RQ
	jobs (a query over the whole backlog) runs at most once per `recover_after` seconds per site."""
	results = {}

	def reconcile():
		if "async_jobs" not in frappe.get_installed_apps():
			return
		site = frappe.local.site
		_observing_sites.add(site)
		due = time.monotonic() - _last_recovery.get(site, 0) >= lifeline.recover_after()
		results[site] = lifeline.reconcile(recover_waiting=due)
		schedules_due.mark_site()  # should Redis have lost the site's next run
		if due:
			_last_recovery[site] = time.monotonic()
		frappe.db.commit()

	in_each_site(_all_sites(), reconcile, "lifeline")  # MariaDB restarting, site being made, …
	return results


def watch_all_sites() -> None:
	"""A watchdog pass per site with async_jobs whose settings enable it."""

	def watch():
		if "async_jobs" in frappe.get_installed_apps():
			operations.run_if_enabled("enable_watchdog", watchdog.check)

	in_each_site(_all_sites(), watch, "watchdog")


def _all_sites() -> list[str]:
	with frappe.init_site():
		return get_sites()
