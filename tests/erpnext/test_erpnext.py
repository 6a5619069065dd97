"""async_jobs on a real ERPNext 15 site (the erpnext bench: scripts/test with ASYNC_JOBS_PROFILE=erpnext).

ERPNext's own background work runs under both worker kinds beside async_jobs; the watchdog judges ERPNext's own
Scheduled Job Types without false alerts on a healthy site; the app installs after ERPNext and uninstalls again
without touching ERPNext."""

import json
import uuid

import frappe
import pytest
from frappe.utils import add_days, nowdate

from tests.support import harness

pytestmark = pytest.mark.erpnext


@pytest.fixture(scope="module", autouse=True)
def erpnext_site():
	"""These tests need ERPNext on the site, with its setup wizard completed (scripts/setup does both)."""
	if "erpnext" not in frappe.get_installed_apps():
		pytest.fail(f"{frappe.local.site} has no ERPNext: run these tests with ASYNC_JOBS_PROFILE=erpnext")
	company = frappe.db.get_value("Company", {}, ["name", "abbr"], as_dict=True)
	assert company, "ERPNext's setup wizard was not completed on this site (no Company)"
	return company


def _item() -> str:
	"""A new stock item per test: ERPNext skips a repost that an earlier one of the same item already covers."""
	code = f"AJ-{uuid.uuid4().hex[:8]}"
	frappe.get_doc(
		{
			"doctype": "Item",
			"item_code": code,
			"item_name": "async_jobs test item",
			"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name") or "All Item Groups",
			"stock_uom": "Nos",
			"is_stock_item": 1,
		}
	).insert()
	return code


def _receipt(company, item: str, warehouse: str, qty: float, rate: float, posting_date: str) -> str:
	entry = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"company": company.name,
			"posting_date": posting_date,
			"set_posting_time": 1,
			"items": [{"item_code": item, "t_warehouse": warehouse, "qty": qty, "basic_rate": rate}],
		}
	)
	entry.insert()
	entry.submit()
	return entry.name


def _riv_status(name: str) -> str:
	frappe.db.rollback()  # see the worker's commits
	return frappe.db.get_value("Repost Item Valuation", name, "status")


@pytest.mark.worker
@pytest.mark.parametrize("kind", ["bench", "fast"])
def test_a_backdated_stock_entrys_repost_runs_to_completed_on_a_real_worker(
	erpnext_site, kind, empty_queues, stager
):
	"""ERPNext's Repost Item Valuation, queued by a backdated Stock Entry and started as ERPNext's own button does
	(its Scheduled Job Type enqueued through frappe.enqueue), is run to Completed by each worker kind — and the
	ledger observed that job: a Finished row of kind Observed naming its Scheduled Job Type."""
	warehouse = frappe.db.get_value(
		"Warehouse", {"company": erpnext_site.name, "is_group": 0, "warehouse_name": "Stores"}, "name"
	)
	item = _item()
	_receipt(erpnext_site, item, warehouse, 10, 100, nowdate())
	_receipt(erpnext_site, item, warehouse, 5, 80, add_days(nowdate(), -3))
	frappe.db.commit()
	# ERPNext 15 reposts item-wise: one Repost Item Valuation per item and warehouse the backdated entry touched
	repost = frappe.db.get_value(
		"Repost Item Valuation", {"item_code": item, "warehouse": warehouse, "docstatus": 1}, "name"
	)
	assert repost, "ERPNext queued no Repost Item Valuation for the backdated entry"
	assert _riv_status(repost) == "Queued"

	def repost_job_ended() -> list[str] | None:
		"""The statuses of the repost job's runs since it was asked for, once none is still running."""
		frappe.db.rollback()
		statuses = frappe.get_all(
			"Scheduled Job Log",
			filters={"scheduled_job_type": "repost_item_valuation.repost_entries", "creation": [">=", asked]},
			pluck="status",
		)
		return statuses if statuses and "Start" not in statuses else None

	worker = harness.start_worker(kind=kind)
	try:
		from erpnext.stock.doctype.repost_item_valuation.repost_item_valuation import (
			execute_repost_item_valuation,
		)

		asked = frappe.utils.now_datetime()
		execute_repost_item_valuation()  # the "Restart reposting" path: Scheduled Job Type → frappe.enqueue
		frappe.db.commit()
		harness.wait_for(
			lambda: _riv_status(repost) == "Completed", timeout=180, message=f"{repost} Completed"
		)
		assert harness.wait_for(repost_job_ended, timeout=60, message="the repost job's end") == ["Complete"]
		row = harness.wait_for(
			lambda: _observed_repost(asked, "Finished"), timeout=60, message="the observed repost row"
		)
	finally:
		worker.stop()
	assert row.job_type == REPOST_METHOD and row.owner == "Administrator" and row.worker == worker.rq_name
	assert row.started_at >= row.queued_at and row.ended_at >= row.started_at


REPOST_METHOD = "erpnext.stock.doctype.repost_item_valuation.repost_item_valuation.repost_entries"


def _observed_repost(since, *statuses: str):
	frappe.db.rollback()
	rows = frappe.get_all(
		"Async Job",
		filters={
			"kind": "Observed",
			"scheduled_job_type": "repost_item_valuation.repost_entries",
			"creation": [">=", since],
			"status": ["in", statuses],
		},
		fields=["*"],
		order_by="creation desc",
		limit=1,
	)
	return rows[0] if rows else None


@pytest.mark.worker
@pytest.mark.browser
def test_the_job_monitor_shows_erpnexts_repost_and_a_failing_plain_job_with_their_end_states(
	erpnext_site, empty_queues, stager, browser, web, screenshot_dir
):
	"""Done-when of "See every job of the site": a backdated Stock Entry's repost (ERPNext's own job) and a failing
	plain frappe.enqueue job, both observed, show in the Job Monitor with their end states (filtered by kind)."""
	from frappe.utils.background_jobs import enqueue as frappe_enqueue

	from tests.support import world

	warehouse = frappe.db.get_value(
		"Warehouse", {"company": erpnext_site.name, "is_group": 0, "warehouse_name": "Stores"}, "name"
	)
	item = _item()
	_receipt(erpnext_site, item, warehouse, 10, 100, nowdate())
	_receipt(erpnext_site, item, warehouse, 5, 80, add_days(nowdate(), -3))
	frappe.db.commit()
	worker = harness.start_worker()
	try:
		from erpnext.stock.doctype.repost_item_valuation.repost_item_valuation import (
			execute_repost_item_valuation,
		)

		asked = frappe.utils.now_datetime()
		execute_repost_item_valuation()
		marker = f"monitor-{uuid.uuid4().hex[:8]}"
		frappe_enqueue("async_jobs.testing.jobs.plain_fail", queue="short", marker=marker)
		frappe.db.commit()
		repost = harness.wait_for(
			lambda: _observed_repost(asked, "Finished"), timeout=180, message="the repost"
		)

		def failed():
			frappe.db.rollback()
			return frappe.db.get_value(
				"Async Job",
				{"kind": "Observed", "error": ["like", f"%{marker}%"], "status": "Failed"},
				"name",
			)

		failing = harness.wait_for(failed, timeout=60, message="the failing plain job")
	finally:
		worker.stop()
	context = browser.new_context(viewport={"width": 1400, "height": 1000})
	try:
		page = context.new_page()
		page.goto(f"{web}/login")
		page.fill("#login_email", world.MANAGER)
		page.fill("#login_password", world.PASSWORD)
		page.click(".btn-login")
		page.wait_for_url("**/app**", timeout=60_000)
		page.goto(f"{web}/app/job-monitor")
		page.wait_for_selector(".aj-recent", timeout=60_000)
		page.select_option("select:has(option[value='Observed'])", "Observed")
		recent = page.locator(f'.aj-recent tr[data-job="{repost.name}"]')
		failure = page.locator(f'.aj-failed tr[data-job="{failing}"]')
		recent.wait_for(timeout=30_000)
		failure.wait_for(timeout=30_000)
		assert "Finished" in recent.inner_text() and REPOST_METHOD in recent.inner_text()
		assert "Failed" in failure.inner_text() and marker in failure.inner_text()
		assert "observed" in recent.inner_text() and not failure.locator("button[data-action]").count()
		page.screenshot(path=str(screenshot_dir / "erpnext-observed-jobs-monitor.png"), full_page=True)
	finally:
		context.close()


def _queues_empty() -> bool:
	from frappe.utils.background_jobs import get_queues

	return not any(queue.count for queue in get_queues())


@pytest.mark.worker
def test_the_watchdog_finds_nothing_wrong_with_erpnexts_scheduled_jobs_on_a_healthy_site(empty_queues):
	"""With the scheduler enabled, `bench schedule` ticking and a worker draining, ERPNext's 90-odd Scheduled Job
	Types (daily, hourly, maintenance, cron) give no overdue, failing or scheduler finding."""
	from async_jobs.engine.health import watchdog

	enabled = frappe.db.get_single_value("System Settings", "enable_scheduler")
	frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
	frappe.db.commit()
	harness.set_common_config("scheduler_tick_interval", 2)
	started = frappe.utils.now_datetime()
	worker = harness.start_worker()
	scheduler = harness.start_scheduler()
	try:

		def ticked_and_drained() -> bool:
			"""A tick's jobs ran, none waits and none is still running (its last_execution is written at its end)."""
			frappe.db.rollback()
			since = {"creation": [">", started]}
			ran = frappe.db.count("Scheduled Job Log", {**since, "status": "Complete"})
			running = frappe.db.count("Scheduled Job Log", {**since, "status": "Start"})
			return ran > 0 and not running and _queues_empty()

		harness.wait_for(ticked_and_drained, timeout=300, interval=1, message="the first ticks' jobs to run")
		frappe.db.rollback()
		found = watchdog.findings()
	finally:
		scheduler.stop()
		worker.stop()
		harness.set_common_config("scheduler_tick_interval", None)
		frappe.db.set_single_value("System Settings", "enable_scheduler", enabled)
		frappe.db.commit()
	job_types = frappe.db.count("Scheduled Job Type", {"stopped": 0})
	assert job_types > 80, "ERPNext's Scheduled Job Types are not on this site"
	wrong = [
		f"{f.key}: {f.title} ({f.message})"
		for f in found
		if f.key.startswith(("overdue:", "failing:", "scheduler-", "maintenance-mode"))
	]
	assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_async_jobs_installs_after_erpnext_and_uninstalls_without_touching_it():
	"""On a new ERPNext site: install-app async_jobs after ERPNext syncs our DocTypes and scheduled jobs; uninstall
	removes exactly ours and leaves ERPNext's DocTypes and Scheduled Job Types as they were."""
	site = f"aj-erpnext-{uuid.uuid4().hex[:8]}.localhost"
	root_password = harness.COMMON_CONFIG["root_password"]

	def bench(*args, timeout=900):
		result = harness.run_bench(*args, timeout=timeout)
		assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}"
		return result.stdout

	def count(doctype, filters):
		out = bench("--site", site, "execute", "frappe.db.count", "--args", json.dumps([doctype, filters]))
		lines = out.strip().splitlines()
		return int(lines[-1]) if lines else 0  # bench execute prints nothing for a 0

	try:
		bench(
			"new-site",
			site,
			"--admin-password",
			"admin",
			"--db-root-password",
			root_password,
			"--install-app",
			"erpnext",
		)
		erpnext_jobs = count("Scheduled Job Type", {"method": ["like", "erpnext.%"]})
		assert erpnext_jobs > 30

		bench("--site", site, "install-app", "async_jobs")
		assert count("DocType", {"module": "Async Jobs"}) >= 4
		assert count("Scheduled Job Type", {"method": ["like", "async_jobs.%"]}) >= 5

		bench("--site", site, "uninstall-app", "async_jobs", "--yes", "--no-backup", "--force")
		assert "async_jobs" not in bench("--site", site, "list-apps")
		assert count("DocType", {"module": "Async Jobs"}) == 0
		assert count("Scheduled Job Type", {"method": ["like", "async_jobs.%"]}) == 0
		assert count("Scheduled Job Type", {"method": ["like", "erpnext.%"]}) == erpnext_jobs
		assert count("DocType", {"name": "Stock Entry"}) == 1
	finally:
		if (harness.SITES / site).exists():
			harness.run_bench(
				"drop-site", site, "--force", "--no-backup", "--db-root-password", root_password, timeout=180
			)
