"""Alerts of the watchdog: each condition has a stable key; an alert is opened (and announced) once when its
condition appears, only touched (last_seen) while it lasts, and cleared (and announced) when a check no longer
finds it. Stored as Async Jobs Alert rows, one per episode.

A manager may acknowledge an alert (someone is on it: it stays until its condition is gone, then clears as any
other) or snooze it until a time. A snoozed alert is silent until then and stays snoozed whatever its condition
does meanwhile (a condition that comes and goes must not announce each end and return). When the time has passed,
a condition still found reopens the alert (announced again); one that is gone clears it, silently. So an alert
announces once per episode, and once more only when a snooze ends on a problem that is still there."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import escape_html, get_datetime, now_datetime

from async_jobs.engine.health import recipients
from async_jobs.engine.ledger import settings

DOCTYPE = "Async Jobs Alert"
EVENT = "async_jobs:alert"
OPEN, ACKNOWLEDGED, SNOOZED, CLEARED = "Open", "Acknowledged", "Snoozed", "Cleared"
ACTIVE = (OPEN, ACKNOWLEDGED, SNOOZED)  # the condition was last found (or a snooze has not ended yet)
MAX_SNOOZE = timedelta(days=31)


@dataclass(frozen=True)
class Finding:
	"""A problem found by a check: what is wrong and how to fix it, and what it is about (a Scheduled Job Type,
	an RQ queue), when it is about one."""

	key: str
	title: str
	message: str
	fix: str
	scheduled_job_type: str | None = None
	queue: str | None = None


def open_alerts() -> list[frappe._dict]:
	"""Alerts whose problem is there (open, acknowledged or snoozed), oldest first."""
	return frappe.get_all(
		DOCTYPE,
		filters={"status": ["in", ACTIVE]},
		fields=[
			"name",
			"alert_key",
			"title",
			"message",
			"fix",
			"status",
			"opened_at",
			"last_seen",
			"acknowledged_by",
			"snoozed_until",
			"scheduled_job_type",
			"queue",
		],
		order_by="opened_at asc",
	)


def sync(findings: list[Finding], now: datetime | None = None, notify: bool = True) -> dict[str, list[str]]:
	"""Open alerts for new findings, touch those still found, clear active alerts no longer found, reopen snoozed
	alerts whose time has passed. Returns the keys opened, reopened, kept and cleared."""
	now = now or now_datetime()
	found = {finding.key: finding for finding in findings}
	current = {row.alert_key: row for row in open_alerts()}
	changes = {"opened": [], "reopened": [], "kept": [], "cleared": []}
	for key, finding in found.items():
		row = current.get(key)
		if row and row.status == SNOOZED and not _snoozed(row, now):
			frappe.db.set_value(
				DOCTYPE,
				row.name,
				{
					"status": OPEN,
					"last_seen": now,
					"reopened_at": now,
					"snoozed_until": None,
					"snoozed_by": None,
				},
				update_modified=False,
			)
			changes["reopened"].append(key)
			if notify:
				announce(frappe.get_doc(DOCTYPE, row.name), opened=True, reopened=True)
			continue
		if row:
			frappe.db.set_value(DOCTYPE, row.name, "last_seen", now, update_modified=False)
			changes["kept"].append(key)
			continue
		doc = frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"alert_key": key,
				"title": finding.title[:140],
				"message": finding.message,
				"fix": finding.fix,
				"scheduled_job_type": finding.scheduled_job_type
				if finding.scheduled_job_type
				and frappe.db.exists("Scheduled Job Type", finding.scheduled_job_type)
				else None,
				"queue": finding.queue,
				"status": OPEN,
				"opened_at": now,
				"last_seen": now,
			}
		).insert(ignore_permissions=True)
		changes["opened"].append(key)
		if notify:
			announce(doc, opened=True)
	for key, row in current.items():
		if key in found:
			continue
		if row.status == SNOOZED and _snoozed(row, now):
			continue  # silent and snoozed until the snooze ends, whatever the condition does meanwhile
		frappe.db.set_value(DOCTYPE, row.name, {"status": CLEARED, "cleared_at": now})
		changes["cleared"].append(key)
		if notify and row.status != SNOOZED:
			announce(frappe.get_doc(DOCTYPE, row.name), opened=False)
	frappe.db.commit()
	return changes


def _snoozed(row, now: datetime) -> bool:
	return bool(row.snoozed_until) and get_datetime(row.snoozed_until) > now


def acknowledge(name: str) -> frappe._dict:
	"""Someone is on it: the alert is Acknowledged (by the session user) until its condition is gone. A snoozed
	alert that is acknowledged is no longer snoozed."""
	doc = _writable(name)
	if doc.status == CLEARED:
		frappe.throw(_("This alert is cleared already: its problem is gone."), frappe.ValidationError)
	doc.db_set(
		{
			"status": ACKNOWLEDGED,
			"acknowledged_by": frappe.session.user,
			"acknowledged_at": now_datetime(),
			"snoozed_until": None,
			"snoozed_by": None,
		}
	)
	return summary(doc.name)


def snooze(name: str, until=None, hours=None, now: datetime | None = None) -> frappe._dict:
	"""Nothing about this alert is announced until `until` (or for `hours`; at most MAX_SNOOZE ahead); then, if the
	problem is still there, the alert reopens and is announced again."""
	now = now or now_datetime()
	doc = _writable(name)
	if doc.status == CLEARED:
		frappe.throw(_("This alert is cleared already: its problem is gone."), frappe.ValidationError)
	try:
		until = now + timedelta(hours=float(hours)) if hours not in (None, "") else get_datetime(until)
	except Exception:
		until = None
	if not until or until <= now:
		frappe.throw(_("Snooze until a time in the future."), frappe.ValidationError)
	if until > now + MAX_SNOOZE:
		frappe.throw(
			_(
				"Snooze at most {0} days; to silence a check for good, turn it off in Async Jobs Settings."
			).format(MAX_SNOOZE.days),
			frappe.ValidationError,
		)
	doc.db_set(
		{"status": SNOOZED, "snoozed_until": until.replace(microsecond=0), "snoozed_by": frappe.session.user}
	)
	return summary(doc.name)


def _writable(name: str):
	if not frappe.has_permission(DOCTYPE, "write"):
		frappe.throw(_("Only an Async Jobs Manager may handle alerts."), frappe.PermissionError)
	if not name or not frappe.db.exists(DOCTYPE, name):
		frappe.throw(_("Async Jobs Alert {0} not found").format(name), frappe.DoesNotExistError)
	doc = frappe.get_doc(DOCTYPE, name)
	doc.check_permission("write")
	return doc


def summary(name: str) -> frappe._dict:
	return frappe.db.get_value(
		DOCTYPE,
		name,
		["name", "alert_key", "title", "status", "acknowledged_by", "snoozed_until", "cleared_at"],
		as_dict=True,
	)


def announce(alert, opened: bool, reopened: bool = False) -> None:
	"""Tell the alert recipients through the channels the settings turn on."""
	config = settings.load()
	users = recipients.alert_users(config)
	if reopened:
		subject = _("Async Jobs alert, still there after its snooze: {0}")
	elif opened:
		subject = _("Async Jobs alert: {0}")
	else:
		subject = _("Async Jobs alert cleared: {0}")
	subject = subject.format(alert.title)
	body = describe(alert) if opened else _("This problem is gone: {0}").format(escape_html(alert.title))
	if config.alert_notification_log:
		for user in users:
			frappe.get_doc(
				{
					"doctype": "Notification Log",
					"for_user": user,
					"type": "Alert",
					"subject": subject,
					"email_content": body,
					"document_type": DOCTYPE,
					"document_name": alert.name,
				}
			).insert(ignore_permissions=True)
	if config.alert_email and users:
		frappe.sendmail(
			recipients=recipients.emails(users),
			subject=subject,
			message=body,
			reference_doctype=DOCTYPE,
			reference_name=alert.name,
		)
	if config.alert_realtime:
		message = {"name": alert.name, "key": alert.alert_key, "title": alert.title, "open": opened}
		for user in users:
			frappe.publish_realtime(EVENT, message, user=user, after_commit=True)


def describe(alert) -> str:
	return (
		f"<p>{escape_html(alert.message)}</p>"
		f"<p><b>{escape_html(_('How to fix it'))}:</b> {escape_html(alert.fix)}</p>"
	)
