"""Async Job Schedules: validated as they are saved, fired at the right instants of their time zone (the firing's
clock injected), once per tick whichever stager fires them, with their overlap, missed-run and scheduler policies;
declared in hooks; watched by the watchdog; and once for real over two minutes with two stagers and a worker."""

import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import frappe
import pytest
from frappe.utils import get_system_timezone, now_datetime

from async_jobs.engine.health import schedules as schedule_health
from async_jobs.engine.schedules import cron, fire, sync
from tests.support import harness, world
from tests.support.harness import wait_for

F = "async_jobs.testing.jobs."
NEW_YORK = "America/New_York"


def other_zone() -> str:
	"""A time zone other than the test site's (Asia/Kolkata on the Frappe bench; the ERPNext site's wizard may set
	another)."""
	return NEW_YORK if get_system_timezone() != NEW_YORK else "Asia/Tokyo"


def elapsed(start: datetime, end: datetime) -> timedelta:
	"""Real time between two naive system times (a DST change in the system's zone counts)."""
	zone = ZoneInfo(get_system_timezone())
	return end.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")) - start.replace(tzinfo=zone).astimezone(
		ZoneInfo("UTC")
	)


DOCTYPE = "Async Job Schedule"


@pytest.fixture(autouse=True)
def no_schedules_left():
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")
	for name in frappe.get_all(DOCTYPE, filters={"schedule_name": ["like", "aj-test-%"]}, pluck="name"):
		for job in frappe.get_all(
			"Async Job", filters={"schedule": name, "status": ["in", fire.ACTIVE]}, pluck="name"
		):
			frappe.db.set_value("Async Job", job, "status", "Cancelled", update_modified=False)
		frappe.delete_doc(DOCTYPE, name, force=True)
	frappe.db.commit()


@contextmanager
def scheduler_enabled(enabled: bool = True):
	before = frappe.db.get_single_value("System Settings", "enable_scheduler")
	frappe.db.set_single_value("System Settings", "enable_scheduler", int(enabled))
	frappe.db.commit()
	try:
		yield
	finally:
		frappe.db.set_single_value("System Settings", "enable_scheduler", before)
		frappe.db.commit()


def make(cron_expression: str = "* * * * *", **fields):
	doc = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"schedule_name": f"aj-test-{frappe.generate_hash(length=8)}",
			"method": F + "add",
			"arguments": '{"a": 1, "b": 2}',
			"cron": cron_expression,
			"time_zone": other_zone(),
			"queue": "long",
			"run_when_scheduler_inactive": 1,
			**fields,
		}
	).insert()
	frappe.db.commit()
	return doc


def set_next(name: str, moment: datetime) -> None:
	frappe.db.set_value(DOCTYPE, name, "next_run_at", moment, update_modified=False)
	frappe.db.commit()


def runs(name: str) -> list[frappe._dict]:
	frappe.db.rollback()
	return frappe.get_all(
		"Async Job",
		filters={"schedule": name},
		fields=["name", "status", "schedule_tick", "queue", "owner", "creation", "arguments"],
		order_by="creation asc",
	)


def system_time(moment: datetime) -> datetime:
	return moment.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)


def test_ticks_are_instants_of_the_schedules_time_zone_across_daylight_saving():
	new_york = ZoneInfo(NEW_YORK)
	before_dst = system_time(datetime(2027, 3, 13, 8, 0, tzinfo=new_york))
	ticks = cron.next_after("30 9 * * *", NEW_YORK, before_dst, 3)
	expected = [system_time(datetime(2027, 3, day, 9, 30, tzinfo=new_york)) for day in (13, 14, 15)]
	assert ticks == expected
	assert elapsed(ticks[0], ticks[1]) == timedelta(hours=23), (
		"the night the clocks go forward is an hour shorter"
	)
	assert elapsed(ticks[1], ticks[2]) == timedelta(hours=24)
	assert cron.latest_at_or_before("30 9 * * *", NEW_YORK, expected[1]) == expected[1]
	assert cron.count_between("*/15 * * * *", NEW_YORK, expected[0], expected[0] + timedelta(hours=1)) == 4


def test_an_every_minute_schedule_on_long_fires_once_per_tick_at_its_instants_with_an_injected_clock():
	# UTC+05:45, 15 minutes off the system's; no worker serves long here, so its runs wait: run anyway
	doc = make("* * * * *", time_zone="Asia/Kathmandu", overlap_policy="Run Anyway")
	tick = system_time(datetime(2030, 1, 1, 12, 0, tzinfo=ZoneInfo("Asia/Kathmandu")))
	set_next(doc.name, tick)
	assert fire.fire_due(now=tick - timedelta(seconds=1)) == {}, "not due before its tick"
	assert fire.fire_due(now=tick + timedelta(seconds=2)) == {doc.name: fire.FIRED}
	assert fire.fire_due(now=tick + timedelta(seconds=30)) == {}, "one run per tick"
	assert fire.fire_due(now=tick + timedelta(seconds=61)) == {doc.name: fire.FIRED}
	fired = runs(doc.name)
	assert [r.schedule_tick for r in fired] == [
		fire.tick_key(doc.name, tick),
		fire.tick_key(doc.name, tick + timedelta(minutes=1)),
	]
	assert {r.queue for r in fired} == {"long"} and {r.owner for r in fired} == {"Administrator"}
	assert frappe.db.get_value(DOCTYPE, doc.name, "next_run_at") == tick + timedelta(minutes=2)


def test_a_daily_schedule_fires_at_nine_thirty_of_its_zone_not_of_the_system():
	zone = other_zone()
	doc = make("30 9 * * *", time_zone=zone)
	assert cron.to_zone(doc.next_run_at, ZoneInfo(zone)).strftime("%H:%M") == "09:30"
	tick = system_time(
		datetime(2030, 7, 1, 9, 30, tzinfo=ZoneInfo(zone))
	)  # New York in summer: 19:00 in Kolkata
	assert tick.strftime("%H:%M") != "09:30"
	set_next(doc.name, tick)
	assert fire.fire_due(now=tick + timedelta(seconds=1)) == {doc.name: fire.FIRED}
	assert frappe.db.get_value(DOCTYPE, doc.name, "next_run_at") == tick + timedelta(days=1)


def test_two_stagers_firing_the_same_tick_at_once_make_one_run():
	"""Two processes (as two stagers on two hosts would) call the firing at the same instant, 20 times."""
	doc = make("* * * * *", overlap_policy="Run Anyway")
	base = system_time(datetime(2031, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
	for i in range(20):
		tick = base + timedelta(minutes=i)
		set_next(doc.name, tick)
		start = time.time() + 1.5
		procs = [
			subprocess.Popen(
				[
					sys.executable,
					str(harness.APP_ROOT / "tests/support/fire_race.py"),
					harness.SITE,
					str(tick + timedelta(seconds=5)),
					str(start),
				],
				cwd=harness.SITES,
				stdout=subprocess.PIPE,
				text=True,
			)
			for _ in range(2)
		]
		outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
		assert sorted(outputs) == sorted(["{}", repr({doc.name: fire.FIRED})]), outputs
	fired = runs(doc.name)
	assert len(fired) == 20 and len({r.schedule_tick for r in fired}) == 20


def test_overlap_skip_waits_for_the_previous_run_and_run_anyway_does_not():
	skip = make("* * * * *", overlap_policy="Skip")
	anyway = make("* * * * *", overlap_policy="Run Anyway")
	tick = system_time(datetime(2032, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
	for doc in (skip, anyway):
		set_next(doc.name, tick)
	fire.fire_due(now=tick + timedelta(seconds=1))
	fire.fire_due(now=tick + timedelta(seconds=61))  # no worker serves long here: the first runs still wait
	assert len(runs(skip.name)) == 1 and len(runs(anyway.name)) == 2
	outcome = frappe.db.get_value(DOCTYPE, skip.name, "last_outcome")
	assert "skipped" in outcome and runs(skip.name)[0].name in outcome


@pytest.mark.parametrize("policy", ["Run Once", "Skip"])
def test_after_downtime_missed_ticks_run_once_or_are_skipped(policy):
	doc = make("0 * * * *", missed_run_policy=policy)  # hourly
	tick = system_time(datetime(2033, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
	set_next(doc.name, tick)
	now = tick + timedelta(hours=5, minutes=30)  # nothing fired for five and a half hours: six ticks missed
	fire.fire_due(now=now)
	after = frappe.db.get_value(
		DOCTYPE, doc.name, ["next_run_at", "missed_ticks", "last_outcome"], as_dict=True
	)
	assert after.next_run_at == tick + timedelta(hours=6) and after.missed_ticks == 6
	fired = runs(doc.name)
	if policy == "Run Once":
		assert [r.schedule_tick for r in fired] == [fire.tick_key(doc.name, tick + timedelta(hours=5))]
	else:
		assert fired == [] and "skipped" in after.last_outcome


def test_a_disabled_scheduler_skips_schedules_that_honour_it_and_not_those_that_opt_out():
	honours = make("* * * * *", run_when_scheduler_inactive=0)
	opts_out = make("* * * * *", run_when_scheduler_inactive=1)
	tick = system_time(datetime(2034, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
	with scheduler_enabled(False):
		for doc in (honours, opts_out):
			set_next(doc.name, tick)
		outcomes = fire.fire_due(now=tick + timedelta(seconds=1))
	assert outcomes == {honours.name: fire.SKIPPED, opts_out.name: fire.FIRED}
	assert runs(honours.name) == [] and len(runs(opts_out.name)) == 1
	assert "scheduler" in frappe.db.get_value(DOCTYPE, honours.name, "last_outcome")
	with scheduler_enabled(True):
		set_next(honours.name, tick + timedelta(minutes=5))
		assert fire.fire_due(now=tick + timedelta(minutes=5, seconds=1))[honours.name] == fire.FIRED


def test_a_schedule_is_validated_as_it_is_saved():
	cases = [
		({"cron": "every minute"}, "not a cron expression"),
		({"cron": "* * * * * *"}, "five fields"),
		({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
		({"method": None}, "job type or a method"),
		({"job_type": "aj-test-add"}, "not both"),
		({"job_type": "no-such-type", "method": None}, "Unknown job type"),
		({"method": "async_jobs.no_such.function"}, "not an importable function"),
		({"arguments": "{not json"}, "not valid JSON"),
		({"arguments": "[1, 2]"}, "JSON object"),
		({"arguments": '{"a": 1}'}, "do not fit"),
		({"arguments": '{"a": 1, "b": 2, "c": 3}'}, "do not fit"),
		({"queue": "no-such-queue"}, "Unknown queue"),
		({"timeout": 10**9}, "timeout must be a whole number of seconds"),
		({"retry_attempts": 1000}, "Attempts"),
	]
	for fields, message in cases:
		with pytest.raises(frappe.ValidationError, match=message):
			make(**fields)
		frappe.db.rollback()
	doc = make("*/5 * * * *", job_type="aj-test-add", method=None, queue=None)
	assert doc.queue == "short", "the job type's queue"
	frappe.set_user(world.OWNER)
	with pytest.raises(frappe.PermissionError):
		make()
	frappe.set_user("Administrator")


def test_hooks_schedules_are_written_follow_the_hooks_keep_the_managers_enabled_and_go_with_them():
	name = f"aj-test-hooks-{frappe.generate_hash(length=6)}"
	spec = {
		"name": name,
		"method": F + "add",
		"arguments": {"a": 1, "b": 2},
		"cron": "0 3 * * *",
		"time_zone": NEW_YORK,
		"queue": "long",
		"missed": "Skip",
	}
	desk = make("0 4 * * *")
	clash = {"name": desk.name, "method": F + "add", "cron": "0 5 * * *", "arguments": {"a": 1, "b": 1}}
	with patch.object(sync, "declared", return_value=[("async_jobs", spec), ("async_jobs", clash)]):
		result = sync.sync()
	assert name in result["written"] and desk.name in result["skipped"]
	doc = frappe.get_doc(DOCTYPE, name)
	assert (doc.source, doc.app, doc.cron, doc.missed_run_policy, doc.enabled) == (
		"Hooks",
		"async_jobs",
		"0 3 * * *",
		"Skip",
		1,
	)
	assert frappe.db.get_value(DOCTYPE, desk.name, "cron") == "0 4 * * *", "a Desk schedule is left alone"
	frappe.db.set_value(DOCTYPE, name, "enabled", 0)
	frappe.db.commit()
	with patch.object(sync, "declared", return_value=[("async_jobs", {**spec, "cron": "0 2 * * *"})]):
		sync.sync()
	doc = frappe.get_doc(DOCTYPE, name)
	assert (doc.cron, doc.enabled) == ("0 2 * * *", 0), "the definition follows the hooks, enabled stays"
	with patch.object(sync, "declared", return_value=[]):
		assert name in sync.sync()["deleted"]
	assert not frappe.db.exists(DOCTYPE, name) and frappe.db.exists(DOCTYPE, desk.name)


def test_a_schedule_that_cannot_fire_says_so_logs_it_and_moves_on_to_its_next_tick():
	doc = make("* * * * *")
	frappe.db.set_value(DOCTYPE, doc.name, "method", "async_jobs.testing.no_such_function")  # its app changed
	tick = system_time(datetime(2035, 1, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
	set_next(doc.name, tick)
	assert fire.fire_due(now=tick + timedelta(seconds=1)) == {doc.name: fire.FAILED}
	after = frappe.db.get_value(DOCTYPE, doc.name, ["next_run_at", "last_outcome"], as_dict=True)
	assert after.next_run_at > tick and "could not fire" in after.last_outcome
	assert frappe.db.exists("Error Log", {"reference_doctype": DOCTYPE, "reference_name": doc.name})
	assert runs(doc.name) == []


def test_the_watchdog_alerts_on_a_schedule_whose_tick_passed_unfired():
	doc = make("* * * * *")
	set_next(doc.name, now_datetime() - timedelta(minutes=10))
	keys = {f.key for f in schedule_health.findings(now_datetime())}
	assert f"schedule:{doc.name}" in keys
	fire.fire_due()
	assert f"schedule:{doc.name}" not in {f.key for f in schedule_health.findings(now_datetime())}


@pytest.mark.worker
@pytest.mark.slow
def test_for_real_two_stagers_and_a_worker_run_an_every_minute_schedule_once_per_tick(empty_queues):
	"""Over two real minutes: an every-minute schedule on long in Asia/Kathmandu, two stager processes (as on two
	hosts), one worker. Each tick has one run, fired within seconds of it, and it ran."""
	stagers = [
		harness.Process(f"stager-{i}", harness.frappe_cli("async-jobs", "stager", "--interval", "0.5"))
		for i in range(2)
	]
	worker = harness.start_worker("long")
	try:
		for proc in stagers:
			wait_for(
				lambda p=proc: p.check() and "staging" in p.log_path.read_text(), timeout=60, message="stager"
			)
		doc = make("* * * * *", time_zone="Asia/Kathmandu", method=None, job_type="aj-test-add", queue="long")
		first_tick = doc.next_run_at
		wait_for(
			lambda: len([r for r in runs(doc.name) if r.status == "Finished"]) >= 2,
			timeout=150,
			interval=1,
			message="two runs of the schedule to finish",
		)
		time.sleep(2)  # a second stager firing late would show now
	finally:
		worker.stop()
		for proc in stagers:
			proc.stop()
	fired = runs(doc.name)
	ticks = [first_tick + timedelta(minutes=i) for i in range(len(fired))]
	assert [r.schedule_tick for r in fired] == [fire.tick_key(doc.name, t) for t in ticks]
	for run, tick in zip(fired, ticks, strict=True):
		assert timedelta(0) <= run.creation - tick < timedelta(seconds=10), (run.creation, tick)
