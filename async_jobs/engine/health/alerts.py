"""Alerts of the watchdog: each condition has a stable key; an alert is opened (and announced) once when its
condition appears, only touched (last_seen) while it lasts, and cleared (and announced) when a check no longer
finds it. Stored as Async Jobs Alert rows, one per episode."""

from dataclasses import dataclass
from datetime import datetime

import frappe
from frappe import _
from frappe.utils import escape_html, now_datetime

from async_jobs.engine.health import recipients
from async_jobs.engine.ledger import settings

DOCTYPE = "Async Jobs Alert"
EVENT = "async_jobs:alert"


@dataclass(frozen=True)
class Finding:
	"""A problem found by a check: what is wrong and how to fix it."""

	key: str
	title: str
	message: str
	fix: str


def open_alerts() -> list[frappe._dict]:
	return frappe.get_all(
		DOCTYPE,
		filters={"status": "Open"},
		fields=["name", "alert_key", "title", "message", "fix", "opened_at", "last_seen"],
		order_by="opened_at asc",
	)


def sync(findings: list[Finding], now: datetime | None = None, notify: bool = True) -> dict[str, list[str]]:
	"""Open alerts for new findings, touch those still found, clear open alerts no longer found.
	Returns the keys opened, kept and cleared."""
	now = now or now_datetime()
	found = {finding.key: finding for finding in findings}
	current = {row.alert_key: row for row in open_alerts()}
	changes = {"opened": [], "kept": [], "cleared": []}
	for key, finding in found.items():
		if key in current:
			frappe.db.set_value(DOCTYPE, current[key].name, "last_seen", now, update_modified=False)
			changes["kept"].append(key)
			continue
		doc = frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"alert_key": key,
				"title": finding.title[:140],
				"message": finding.message,
				"fix": finding.fix,
				"status": "Open",
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
		frappe.db.set_value(DOCTYPE, row.name, {"status": "Cleared", "cleared_at": now})
		changes["cleared"].append(key)
		if notify:
			announce(frappe.get_doc(DOCTYPE, row.name), opened=False)
	frappe.db.commit()
	return changes


def announce(alert, opened: bool) -> None:
	"""Tell the alert recipients through the channels the settings turn on."""
	config = settings.load()
	users = recipients.alert_users(config)
	subject = (_("Async Jobs alert: {0}") if opened else _("Async Jobs alert cleared: {0}")).format(
		alert.title
	)
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
