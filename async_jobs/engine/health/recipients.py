"""Who hears from async_jobs: the users of the alert role (the managers when none is set), users named in the
settings, or plain addresses."""

import re

import frappe
from frappe import _
from frappe.utils import validate_email_address
from frappe.utils.user import get_users_with_role

from async_jobs.engine.submit.permissions import MANAGER_ROLES

SEPARATORS = re.compile(r"[\s,;]+")


def parse(text: str | None, label: str = "") -> list[str]:
	"""The entries of a recipients field; each must be a user id or an email address (ValidationError if not)."""
	entries = [entry for entry in SEPARATORS.split(text or "") if entry]
	for entry in entries:
		if not frappe.db.exists("User", entry) and not validate_email_address(entry):
			frappe.throw(
				_("{0}: {1} is neither a user nor an email address.").format(label, entry),
				frappe.ValidationError,
			)
	return entries


def alert_users(config) -> list[str]:
	"""Enabled users with the alert role — without one, everyone the Job Monitor treats as a manager — plus the
	users named in Also Alert Users (sorted, no duplicates)."""
	roles = [config.alert_role] if config.alert_role else sorted(MANAGER_ROLES)
	users = {user for role in roles for user in get_users_with_role(role)}
	named = [entry for entry in parse(config.alert_users) if frappe.db.exists("User", entry)]
	users.update(u for u in named if frappe.db.get_value("User", u, "enabled"))
	return sorted(users)


def emails(entries: list[str]) -> list[str]:
	"""Email addresses for user ids and addresses alike."""
	found = []
	for entry in entries:
		email = frappe.db.get_value("User", entry, "email") if frappe.db.exists("User", entry) else entry
		if email and email not in found:
			found.append(email)
	return found


def mail_recipients(config, field: str) -> list[str]:
	"""The addresses for the digest or the report: its own field, or the alert recipients when that is empty."""
	return emails(parse(config.get(field)) or alert_users(config))
