"""The stager process (`bench async-jobs stager`, one per bench or per host): moves due delayed jobs onto their
queues about every second (and jobs held back by backpressure as their queues drain), writes the observed jobs'
events into each site's ledger about every second, and runs the lifeline over every site with async_jobs every few
seconds — and the watchdog every 5 minutes, so that a disabled or stuck scheduler (which cannot report itself) is
still noticed."""

import time

import frappe
from frappe.utils import get_sites
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.control import lifeline, observed
from async_jobs.engine.health import watchdog
from async_jobs.engine.ops import operations
from async_jobs.engine.run import held
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
		except Exception:
			observing, feeding = {}, []
			logger.exception("staging delayed jobs failed")  # Redis restarting: try again next round
		record_observed(observing)
		if feeding:
			held.feed_sites(feeding)  # jobs held back by backpressure, as their queues drain
		if time.monotonic() >= next_lifeline:
			reconcile_all_sites()
			next_lifeline = time.monotonic() + lifeline_every
		if time.monotonic() >= next_watchdog:
			watch_all_sites()
			next_watchdog = time.monotonic() + WATCHDOG_EVERY
		time.sleep(wait)


_last_recovery: dict[str, float] = {}
_observing_sites: set[str] = set()  # sites with async_jobs, as the last lifeline pass found them


def record_observed(sites: dict[str, int]) -> None:
	"""Write the observed jobs' events of each site that has some into its ledger (about every second)."""
	for site in sites:
		try:
			frappe.init(site=site)
			frappe.connect()
			observed.record()
		except Exception:
			logger.exception(f"recording observed jobs failed for {site}")
		finally:
			frappe.destroy()


def reconcile_all_sites() -> dict[str, dict]:
	"""A lifeline pass per site. Started jobs are checked every pass; the scan of waiting jobs for vanished RQ
	jobs (a query over the whole backlog) runs at most once per `recover_after` seconds per site."""
	with frappe.init_site():
		sites = get_sites()
	results = {}
	for site in sites:
		try:
			frappe.init(site=site)
			frappe.connect()
			if "async_jobs" in frappe.get_installed_apps():
				_observing_sites.add(site)
				due = time.monotonic() - _last_recovery.get(site, 0) >= lifeline.recover_after()
				results[site] = lifeline.reconcile(recover_waiting=due)
				if due:
					_last_recovery[site] = time.monotonic()
				frappe.db.commit()
		except Exception:
			logger.exception(f"lifeline failed for {site}")  # MariaDB restarting, site being made, …
		finally:
			frappe.destroy()
	return results


def watch_all_sites() -> None:
	"""A watchdog pass per site with async_jobs whose settings enable it."""
	with frappe.init_site():
		sites = get_sites()
	for site in sites:
		try:
			frappe.init(site=site)
			frappe.connect()
			if "async_jobs" in frappe.get_installed_apps():
				operations.run_if_enabled("enable_watchdog", watchdog.check)
		except Exception:
			logger.exception(f"watchdog failed for {site}")
		finally:
			frappe.destroy()
