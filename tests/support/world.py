"""The test site's fixed cast: users, a role, job types, an outgoing mail account. Built once per session."""

import frappe
from frappe.installer import update_site_config

from async_jobs.testing import data_record

TEST_ROLE = "Async Jobs Test User"
PASSWORD = "aj-Test-pass-1!"
GUEST = "Guest"
OWNER = "aj-owner@example.com"
OTHER = "aj-other@example.com"
MANAGER = "aj-manager@example.com"
NO_ROLE = "aj-norole@example.com"  # a desk user without the role the test job types ask for
SYSTEM_MANAGER = "aj-sysmanager@example.com"  # Frappe insists on one System Manager besides Administrator
WEBSITE_USER = "aj-website@example.com"  # no desk role: Frappe makes them a Website User
USERS = {
	SYSTEM_MANAGER: ["System Manager"],
	OWNER: [TEST_ROLE],
	OTHER: [TEST_ROLE],
	MANAGER: [TEST_ROLE, "Async Jobs Manager"],
	NO_ROLE: ["Blogger"],
	WEBSITE_USER: [],
}
CANCEL_GRACE = 3
LIFELINE_STALE = 12  # seconds without heartbeat (beats come every 5 s)
RECOVER_AFTER = 3

JOB_TYPES = [
	{
		"name": "aj-test-steps",
		"method": "async_jobs.testing.jobs.steps",
		"queue": "short",
		"roles": [TEST_ROLE],
	},
	{
		"name": "aj-test-add",
		"method": "async_jobs.testing.jobs.add",
		"queue": "short",
		"roles": [TEST_ROLE],
		"email_on_finish": True,
	},
	{"name": "aj-test-server-only", "method": "async_jobs.testing.jobs.add", "queue": "short"},
	{
		"name": "aj-test-flaky",
		"method": "async_jobs.testing.jobs.flaky",
		"queue": "short",
		"roles": [TEST_ROLE],
	},
	{
		"name": "aj-test-dedup",
		"method": "async_jobs.testing.jobs.add",
		"queue": "short",
		"roles": [TEST_ROLE],
		"dedup": "until_finished",
	},
	{
		"name": "aj-test-todo",
		"method": "async_jobs.testing.jobs.add",
		"queue": "short",
		"reference_doctype": "ToDo",
	},
	{
		"name": "aj-process-data-record",
		"method": "async_jobs.testing.data_record.process_items",
		"queue": "default",
		"reference_doctype": "AJ Data Record",
		"dedup": "until_finished",
		"label": "Process Items",
		"button": {"label": "Process Items", "method": "async_jobs.testing.data_record.start_processing"},
	},
]


def build() -> None:
	if not frappe.db.exists("Role", TEST_ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": TEST_ROLE, "desk_access": 1}).insert()
	for email, roles in USERS.items():
		if not frappe.db.exists("User", email):
			user = frappe.new_doc("User")
			user.update({"email": email, "first_name": email.split("@")[0], "send_welcome_email": 0})
			user.new_password = PASSWORD
			user.insert()
			user.add_roles(*roles)
		if "System Manager" not in roles:
			# Frappe makes the first user of a new site a System Manager; test users hold exactly their roles.
			frappe.get_doc("User", email).remove_roles("System Manager")
	update_site_config("async_jobs_job_types", JOB_TYPES)
	update_site_config("async_jobs_cancel_grace_seconds", CANCEL_GRACE)
	update_site_config("async_jobs_lifeline_stale_seconds", LIFELINE_STALE)
	update_site_config("async_jobs_recover_seconds", RECOVER_AFTER)
	frappe.local.conf.async_jobs_lifeline_stale_seconds = LIFELINE_STALE
	frappe.local.conf.async_jobs_recover_seconds = RECOVER_AFTER
	frappe.local.conf.async_jobs_job_types = JOB_TYPES
	frappe.local.conf.async_jobs_cancel_grace_seconds = CANCEL_GRACE
	_mail_account()
	data_record.ensure_doctypes(TEST_ROLE)
	frappe.db.commit()


def _mail_account() -> None:
	"""An outgoing account so that frappe.sendmail queues mail (Email Queue rows); nothing is sent in tests."""
	if frappe.db.exists("Email Account", "AJ Test Outgoing"):
		return
	frappe.flags.in_test = True  # skips the SMTP connection check on insert
	try:
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": "AJ Test Outgoing",
				"email_id": "jobs@async-jobs.localhost",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"smtp_port": 2525,
				"no_smtp_authentication": 1,
			}
		).insert(ignore_permissions=True)
	finally:
		frappe.flags.in_test = False
