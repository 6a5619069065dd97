"""Watchdog: due/overdue rules at fixed instants (no sleeps), and alerts that open once, notify the managers and
clear themselves on the real site when the scheduler is re-enabled, a job type runs again or a queue drains."""

from datetime import datetime, timedelta

import frappe
import pytest
from frappe.utils import now_datetime
from frappe.utils.background_jobs import get_queue

from async_jobs.engine.health import alerts, queues, watchdog
from async_jobs.engine.health.scheduler import SchedulerFacts, scheduler_findings
from async_jobs.engine.health.watchdog import JobTypeFacts
from tests.support import world
from tests.support.alerting import scheduler as scheduler_switched

NOW = datetime(2026, 3, 10, 12, 0, 0)
PRUNE_JOB = "tasks.async_jobs_prune"


def job(frequency="Daily", cron=None, last=None, statuses=()):
	return JobTypeFacts("x.job", "app.x.job", frequency, cron, last, NOW - timedelta(days=365), statuses)


def keys(findings) -> set[str]:
	return {finding.key for finding in findings}


@pytest.mark.parametrize(
	"frequency, cron, ago, overdue",
	[
		("Daily", None, timedelta(hours=47), False),
		("Daily", None, timedelta(hours=49), True),
		("Daily Long", None, timedelta(hours=49), True),
		("Hourly", None, timedelta(minutes=119), False),
		("Hourly", None, timedelta(minutes=121), True),
		("Cron", "*/5 * * * *", timedelta(minutes=9), False),
		("Cron", "*/5 * * * *", timedelta(minutes=11), True),
		("Cron", "0 6 1 * *", timedelta(days=40), False),  # monthly: twice about 30 days
		("Cron", "0 6 1 * *", timedelta(days=70), True),
		("Weekly", None, timedelta(days=13), False),
		("Weekly", None, timedelta(days=15), True),
		("All", None, timedelta(minutes=7), False),  # every 4 minutes by default
		("All", None, timedelta(minutes=9), True),
		("Daily Maintenance", None, timedelta(hours=47), False),  # newer Frappe 15 and ERPNext use these
		("Daily Maintenance", None, timedelta(hours=49), True),
		("Hourly Maintenance", None, timedelta(minutes=119), False),
		("Hourly Maintenance", None, timedelta(minutes=121), True),
	],
)
def test_a_job_type_is_overdue_after_twice_its_interval(frequency, cron, ago, overdue):
	found = watchdog.job_type_findings([job(frequency, cron, NOW - ago)], NOW)
	assert ("overdue:x.job" in keys(found)) is overdue


def test_all_jobs_follow_the_configured_scheduler_interval():
	every_ten_minutes = job("All", None, NOW - timedelta(minutes=15))
	assert keys(watchdog.job_type_findings([every_ten_minutes], NOW, scheduler_interval=600)) == set()
	assert keys(watchdog.job_type_findings([every_ten_minutes], NOW, scheduler_interval=240)) == {
		"overdue:x.job"
	}


def test_a_job_type_that_never_ran_counts_from_its_creation():
	never = JobTypeFacts("x.job", "app.x.job", "Hourly", None, None, NOW - timedelta(hours=3))
	assert keys(watchdog.job_type_findings([never], NOW)) == {"overdue:x.job"}


def test_the_cron_of_a_frequency_is_the_one_frappe_runs_it_by():
	row = frappe._dict(name="x.job", method="app.x.job", frequency="Daily", cron_format=None, creation=NOW)
	assert watchdog.frappe_cron(row) == "0 0 * * *"
	assert watchdog.frappe_cron({**row, "frequency": "Hourly Long"}) == "0 * * * *"


def test_overdue_texts_read_as_sentences():
	(never,) = watchdog.job_type_findings(
		[JobTypeFacts("x.job", "m", "Hourly", None, None, NOW - timedelta(hours=3))], NOW
	)
	assert "never run since it was set up 3 hours ago" in never.message and "(never)" not in never.message
	(ran,) = watchdog.job_type_findings([job("Cron", "* * * * *", NOW - timedelta(minutes=5))], NOW)
	assert ran.message.startswith("It runs every 1 minute but last ran 5 minutes ago, at ")


def test_repeated_failures_alert_only_when_the_last_runs_all_failed():
	failing = job(last=NOW, statuses=("Failed", "Failed", "Failed", "Complete"))
	recovered = job(last=NOW, statuses=("Complete", "Failed", "Failed"))
	assert keys(watchdog.job_type_findings([failing], NOW, failing_runs=3)) == {"failing:x.job"}
	assert keys(watchdog.job_type_findings([recovered], NOW, failing_runs=3)) == set()


def test_overdue_job_types_are_not_reported_while_the_scheduler_does_not_run_them():
	stale = job(last=NOW - timedelta(days=10))
	assert keys(watchdog.job_type_findings([stale], NOW, overdue=False)) == set()


def scheduler(**state) -> SchedulerFacts:
	base = dict(
		site="s.local",
		disabled=False,
		disabled_in_config=False,
		paused=False,
		maintenance=False,
		dormant=False,
		last_log=NOW - timedelta(minutes=3),
	)
	return SchedulerFacts(**{**base, **state})


def test_scheduler_states_each_say_how_to_fix_them():
	(disabled,) = scheduler_findings(scheduler(disabled=True), NOW)
	assert disabled.key == "scheduler-disabled" and "bench --site s.local enable-scheduler" in disabled.fix
	(in_config,) = scheduler_findings(scheduler(disabled=True, disabled_in_config=True), NOW)
	assert "set-config disable_scheduler 0" in in_config.fix
	(paused,) = scheduler_findings(scheduler(paused=True), NOW)
	assert paused.key == "scheduler-paused" and "scheduler resume" in paused.fix
	assert keys(scheduler_findings(scheduler(dormant=True), NOW)) == {"scheduler-dormant"}
	silent = scheduler(last_log=NOW - timedelta(minutes=31))
	assert keys(scheduler_findings(silent, NOW)) == {"scheduler-silent"}
	assert scheduler_findings(scheduler(), NOW) == []


def test_a_scheduler_process_missing_on_this_host_is_reported_once_the_log_falls_silent():
	"""Frappe's own process check is per host: with the log fresh (a scheduler on another host), no alert."""
	assert scheduler_findings(scheduler(process_running=False), NOW) == []
	quiet = scheduler(process_running=False, last_log=NOW - timedelta(minutes=6))
	(finding,) = scheduler_findings(quiet, NOW)
	assert finding.key == "scheduler-silent" and "bench schedule" in finding.message
	assert scheduler_findings(scheduler(process_running=None, last_log=NOW - timedelta(minutes=6)), NOW) == []


def test_the_schedulers_own_run_of_the_watchdog_is_news_of_the_scheduler_by_its_enqueue_time():
	"""The first tick after a long-disabled scheduler: its watchdog run may come before any job has logged."""
	long_quiet = NOW - timedelta(hours=3)
	just_enqueued = scheduler(last_log=long_quiet, enqueued_this_run=NOW - timedelta(seconds=5))
	assert scheduler_findings(just_enqueued, NOW) == []
	# a run that waited in its queue since the scheduler stopped says nothing new
	left_in_queue = scheduler(last_log=long_quiet, enqueued_this_run=NOW - timedelta(minutes=45))
	(finding,) = scheduler_findings(left_in_queue, NOW)
	assert finding.key == "scheduler-silent" and "45 minutes" in finding.title


def test_queue_thresholds():
	config = frappe._dict(
		min_workers=2, max_backlog=100, max_wait_minutes=10, max_failure_rate=20, failure_min_jobs=10
	)
	facts = [
		queues.QueueFacts("short", waiting=5, oldest_wait_seconds=30, workers=0),
		queues.QueueFacts("default", waiting=500, oldest_wait_seconds=11 * 60, workers=1),
		queues.QueueFacts("long", waiting=0, oldest_wait_seconds=0, workers=2),
	]
	assert keys(queues.queue_findings(facts, config)) == {
		"no-worker:short",
		"few-workers:default",
		"backlog:default",
		"slow-queue:default",
	}
	assert queues.failure_finding(failed=3, ended=10, config=config).key == "failure-rate"
	assert queues.failure_finding(failed=2, ended=10, config=config) is None
	assert queues.failure_finding(failed=5, ended=5, config=config) is None  # too few jobs to judge


# The real site: System Settings, Scheduled Job Types and RQ as they are.


@pytest.fixture
def scheduler_enabled():
	"""The scheduler on (the test site keeps it off) and heard from — a Scheduled Job Log of a minute ago, as a
	running scheduler leaves — restored afterwards; no alerts from earlier tests."""
	with scheduler_switched(1):
		log = frappe.get_doc(
			{"doctype": "Scheduled Job Log", "scheduled_job_type": PRUNE_JOB, "status": "Complete"}
		).insert(ignore_permissions=True)
		frappe.db.commit()
		try:
			yield
		finally:
			frappe.delete_doc("Scheduled Job Log", log.name, ignore_permissions=True, force=True)
			frappe.db.commit()


def alert(key: str):
	frappe.db.rollback()
	rows = frappe.get_all("Async Jobs Alert", filters={"alert_key": key}, fields=["*"], order_by="creation")
	return rows


def manager_notifications(name: str) -> list[str]:
	return frappe.get_all(
		"Notification Log",
		filters={"document_type": "Async Jobs Alert", "document_name": name, "for_user": world.MANAGER},
		pluck="subject",
		order_by="creation",
	)


def test_a_disabled_scheduler_raises_one_alert_that_clears_when_it_is_enabled(scheduler_enabled):
	frappe.db.set_single_value("System Settings", "enable_scheduler", 0)
	frappe.db.commit()

	assert "scheduler-disabled" in watchdog.check()["opened"]
	assert "scheduler-disabled" in watchdog.check()["kept"]  # not raised again while it lasts
	(row,) = alert("scheduler-disabled")
	assert row.status == "Open" and "enable-scheduler" in row.fix
	assert len(manager_notifications(row.name)) == 1

	frappe.db.set_single_value("System Settings", "enable_scheduler", 1)
	frappe.db.commit()
	assert "scheduler-disabled" in watchdog.check()["cleared"]
	(row,) = alert("scheduler-disabled")
	assert row.status == "Cleared" and row.cleared_at
	assert len(manager_notifications(row.name)) == 2  # opened, cleared
	assert world.OWNER not in frappe.get_all(
		"Notification Log", filters={"document_name": row.name}, pluck="for_user"
	)


def test_an_overdue_scheduled_job_raises_an_alert_that_clears_when_it_runs(scheduler_enabled):
	last = frappe.db.get_value("Scheduled Job Type", PRUNE_JOB, "last_execution")
	key = f"overdue:{PRUNE_JOB}"
	try:
		frappe.db.set_value(
			"Scheduled Job Type", PRUNE_JOB, "last_execution", now_datetime() - timedelta(days=3)
		)
		frappe.db.commit()
		assert key in watchdog.check()["opened"]
		(row,) = alert(key)
		assert PRUNE_JOB in row.title and "long" in row.fix  # a daily_long job runs on the long workers

		frappe.db.set_value("Scheduled Job Type", PRUNE_JOB, "last_execution", now_datetime())
		frappe.db.commit()
		assert key in watchdog.check()["cleared"]
	finally:
		frappe.db.set_value("Scheduled Job Type", PRUNE_JOB, "last_execution", last)
		frappe.db.commit()


def test_waiting_jobs_without_a_worker_raise_an_alert_that_clears_when_the_queue_drains(
	scheduler_enabled, empty_queues
):
	frappe.enqueue("frappe.ping", queue="long")  # no worker runs in this module
	assert "no-worker:long" in watchdog.check()["opened"]
	(row,) = alert("no-worker:long")
	assert "bench worker --queue long" in row.fix

	get_queue("long").empty()
	assert "no-worker:long" in watchdog.check()["cleared"]


def test_only_managers_may_read_alerts(scheduler_enabled):
	alerts.sync([alerts.Finding("aj-test", "A test alert", "wrong", "fix it")], notify=False)
	frappe.set_user(world.MANAGER)
	assert frappe.get_list("Async Jobs Alert", filters={"alert_key": "aj-test"}, pluck="alert_key") == [
		"aj-test"
	]
	frappe.set_user(world.OWNER)
	with pytest.raises(frappe.PermissionError):
		frappe.get_list("Async Jobs Alert", filters={"alert_key": "aj-test"})


def test_a_scheduled_job_failing_its_last_runs_raises_an_alert_that_clears_after_a_success(scheduler_enabled):
	key = f"failing:{PRUNE_JOB}"

	def log(status):
		frappe.get_doc(
			{"doctype": "Scheduled Job Log", "scheduled_job_type": PRUNE_JOB, "status": status}
		).insert(ignore_permissions=True)
		frappe.db.commit()

	for _ in range(3):
		log("Failed")
	try:
		assert key in watchdog.check()["opened"]
		(row,) = alert(key)
		assert "failed its last 3 runs" in row.title and "async_jobs.tasks.async_jobs_prune" in row.message

		log("Complete")
		assert key in watchdog.check()["cleared"]
	finally:
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": PRUNE_JOB})
		frappe.db.commit()


def test_observed_jobs_count_toward_the_failure_rate():
	"""The failure-rate alert judges every job of the site: observed failures (plain and scheduled jobs) count."""
	import uuid

	from async_jobs.engine.ledger import observed

	now = now_datetime()
	failed_before, ended_before = queues.gather_failures(now - timedelta(seconds=1), 10)
	tag = uuid.uuid4().hex[:8]
	rows = [
		{"name": observed.row_name(f"site::aj-rate-{tag}-{i}", tag), "status": status, "job_type": "aj-rate"}
		for i, status in enumerate(["Failed", "Timed Out", "Lost", "Finished"])
	]
	observed.upsert(rows)
	frappe.db.commit()
	try:
		failed, ended = queues.gather_failures(now - timedelta(seconds=1), 10)
		assert (failed - failed_before, ended - ended_before) == (3, 4)
	finally:
		frappe.db.delete("Async Job", {"name": ["in", [row["name"] for row in rows]]})
		frappe.db.commit()
