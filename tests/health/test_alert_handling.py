"""Acknowledged and snoozed alerts on the real site: an acknowledged alert clears (announced) when its problem is
gone; a snoozed one announces nothing until its time, then reopens (announced once) if the problem is still there
or clears silently if not; bad snoozes and non-managers are refused. Alerts know what they are about."""

from datetime import timedelta

import frappe
import pytest
from frappe.utils import now_datetime

from async_jobs import api
from async_jobs.engine.health import alerts, queues, watchdog
from tests.support import world
from tests.support.alerting import forget_alerts

KEY = "no-worker:aj-handling"
FINDING = alerts.Finding(
	KEY, "Queue aj-handling has 2 waiting jobs and no worker", "wrong", "fix", queue="aj-handling"
)


@pytest.fixture(autouse=True)
def no_alerts():
	forget_alerts()
	yield
	forget_alerts()


def notifications(name: str) -> list[str]:
	return frappe.get_all(
		"Notification Log",
		filters={"document_name": name, "for_user": world.MANAGER},
		pluck="subject",
		order_by="creation",
	)


def status(name: str) -> str:
	return frappe.db.get_value("Async Jobs Alert", name, "status")


def opened(now) -> str:
	assert alerts.sync([FINDING], now=now)["opened"] == [KEY]
	return frappe.db.get_value("Async Jobs Alert", {"alert_key": KEY}, "name")


def test_an_acknowledged_alert_stays_quiet_while_it_lasts_and_announces_its_end():
	now = now_datetime()
	name = opened(now)
	frappe.set_user(world.MANAGER)
	assert api.acknowledge_alert(name).status == "Acknowledged"
	frappe.set_user("Administrator")
	row = frappe.db.get_value("Async Jobs Alert", name, ["acknowledged_by", "acknowledged_at"], as_dict=True)
	assert row.acknowledged_by == world.MANAGER and row.acknowledged_at

	assert alerts.sync([FINDING], now=now + timedelta(minutes=5))["kept"] == [KEY]
	assert status(name) == "Acknowledged" and len(notifications(name)) == 1
	assert alerts.sync([], now=now + timedelta(minutes=10))["cleared"] == [KEY]
	assert status(name) == "Cleared"
	assert notifications(name)[-1].startswith("Async Jobs alert cleared:")


def test_a_snoozed_alert_is_silent_until_its_time_then_reopens_once_if_the_problem_is_still_there():
	now = now_datetime()
	name = opened(now)
	frappe.set_user(world.MANAGER)
	api.snooze_alert(name, str(now + timedelta(hours=1)))
	frappe.set_user("Administrator")
	assert status(name) == "Snoozed"

	come_and_go = ((10, []), (20, [FINDING]), (30, []), (40, [FINDING]))
	for minutes, found in come_and_go:
		changes = alerts.sync(found, now=now + timedelta(minutes=minutes))
		assert not changes["opened"] and not changes["cleared"] and not changes["reopened"], changes
		assert status(name) == "Snoozed"
	assert len(notifications(name)) == 1  # only the opening

	changes = alerts.sync([FINDING], now=now + timedelta(minutes=61))
	assert changes["reopened"] == [KEY] and status(name) == "Open"
	assert notifications(name)[-1] == f"Async Jobs alert, still there after its snooze: {FINDING.title}"
	alerts.sync([FINDING], now=now + timedelta(minutes=70))
	assert len(notifications(name)) == 2
	assert frappe.db.count("Async Jobs Alert", {"alert_key": KEY}) == 1


def test_a_snoozed_alert_whose_problem_is_gone_at_its_time_clears_silently():
	now = now_datetime()
	name = opened(now)
	alerts.snooze(name, now + timedelta(hours=1), now=now)
	alerts.sync([], now=now + timedelta(minutes=30))
	assert status(name) == "Snoozed"
	assert alerts.sync([], now=now + timedelta(minutes=61))["cleared"] == [KEY]
	assert status(name) == "Cleared" and len(notifications(name)) == 1


def test_bad_snoozes_and_users_who_are_not_managers_are_refused():
	now = now_datetime()
	name = opened(now)
	with pytest.raises(frappe.ValidationError, match="in the future"):
		api.snooze_alert(name, str(now - timedelta(minutes=1)))
	with pytest.raises(frappe.ValidationError, match="in the future"):
		api.snooze_alert(name, "not a time")
	with pytest.raises(frappe.ValidationError, match="at most 31 days"):
		api.snooze_alert(name, str(now + timedelta(days=40)))
	with pytest.raises(frappe.ValidationError, match="in the future"):
		api.snooze_alert(name, hours=-1)
	api.snooze_alert(name, hours=4)  # the form's "4 hours": the server's clock decides
	until = frappe.db.get_value("Async Jobs Alert", name, "snoozed_until")
	assert timedelta(hours=3, minutes=59) < until - now <= timedelta(hours=4, seconds=5)
	with pytest.raises(frappe.DoesNotExistError):
		api.acknowledge_alert("no-such-alert")
	frappe.set_user(world.OWNER)
	with pytest.raises(frappe.PermissionError):
		api.acknowledge_alert(name)
	with pytest.raises(frappe.PermissionError):
		api.snooze_alert(name, str(now + timedelta(hours=1)))
	frappe.set_user("Administrator")
	alerts.sync([], now=now + timedelta(hours=5))  # after its snooze, gone: cleared
	with pytest.raises(frappe.ValidationError, match="cleared already"):
		api.acknowledge_alert(name)
	assert status(name) == "Cleared"


def test_an_alert_names_the_scheduled_job_type_or_the_queue_it_is_about():
	(overdue,) = watchdog.job_type_findings(
		[
			watchdog.JobTypeFacts(
				"tasks.async_jobs_prune", "m", "Daily", None, None, now_datetime() - timedelta(days=5)
			)
		],
		now_datetime(),
	)
	(no_worker,) = queues.queue_findings([queues.QueueFacts("aj-q", 3, 10.0, 0)], frappe._dict())
	alerts.sync([overdue, no_worker], notify=False)
	about = {a.alert_key: (a.scheduled_job_type, a.queue) for a in alerts.open_alerts()}
	assert about == {
		"overdue:tasks.async_jobs_prune": ("tasks.async_jobs_prune", None),
		"no-worker:aj-q": (None, "aj-q"),
	}
