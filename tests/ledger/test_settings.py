"""Async Jobs Settings: one loader (site config over the document over the field default), defaults for fields
never saved, and validation of what a manager enters."""

import frappe
import pytest

from async_jobs.engine.health import recipients
from async_jobs.engine.ledger import settings
from tests.support import world


def settings_doc():
	return frappe.get_doc("Async Jobs Settings")


def test_fields_never_saved_read_as_their_defaults():
	config = settings.load()
	assert not frappe.get_meta("Async Jobs Settings").get_field("alert_role").default  # empty: the managers
	assert config.prune_batch_size > 0 and config.enable_watchdog in (0, 1)
	assert "cancel_grace_seconds" in config


@pytest.mark.parametrize(
	"field, value",
	[
		("finished_retention_days", -1),
		("max_backlog", -5),
		("prune_batch_size", 0),
		("prune_batch_size", 1_000_000),
		("max_failure_rate", 150),
		("alert_users", "not an address"),
	],
)
def test_bad_values_are_refused_with_a_validation_error(field, value):
	doc = settings_doc()
	doc.set(field, value)
	with pytest.raises(frappe.ValidationError):
		doc.save()


def test_log_pruning_needs_a_retention():
	doc = settings_doc()
	doc.prune_error_log = 1
	doc.error_log_retention_days = 0
	with pytest.raises(frappe.ValidationError, match="Keep Error Log"):
		doc.save()


def test_alert_recipients_are_the_role_holders_plus_named_users():
	config = frappe._dict(alert_role="Async Jobs Manager", alert_users=world.OTHER)
	users = recipients.alert_users(config)
	assert world.MANAGER in users and world.OTHER in users and world.OWNER not in users
	assert recipients.emails([world.MANAGER, "ops@example.com"]) == [world.MANAGER, "ops@example.com"]


def test_without_an_alert_role_everyone_the_monitor_treats_as_a_manager_is_alerted():
	users = recipients.alert_users(frappe._dict(alert_role=None, alert_users=None))
	system_managers = set(
		frappe.get_all("Has Role", {"role": "System Manager", "parenttype": "User"}, pluck="parent")
	)
	assert world.MANAGER in users and world.OWNER not in users
	assert set(users) & system_managers, "no System Manager among the recipients"


def test_the_settings_warn_when_nobody_would_be_alerted():
	if not frappe.db.exists("Role", "AJ Nobody Has It"):
		frappe.get_doc({"doctype": "Role", "role_name": "AJ Nobody Has It"}).insert()
	doc = settings_doc()
	doc.update({"enable_watchdog": 1, "alert_role": "AJ Nobody Has It", "alert_users": ""})
	frappe.clear_messages()
	doc.save()
	assert any("alerts reach nobody" in str(m) for m in frappe.message_log)
	frappe.db.rollback()


def test_defaults_are_stored_for_fields_a_site_never_saved():
	frappe.db.sql(
		"DELETE FROM `tabSingles` WHERE doctype = 'Async Jobs Settings' AND field IN ('enable_pruning', 'max_backlog')"
	)
	assert settings.load().enable_pruning == 1  # the default, though nothing is stored
	settings.fill_defaults()
	stored = frappe.db.get_singles_dict("Async Jobs Settings", cast=True)
	assert stored.enable_pruning == 1 and stored.max_backlog == 1000
	assert settings_doc().enable_pruning == 1  # the Desk form shows what the tasks use
	frappe.db.commit()


def test_a_setting_is_the_site_configs_over_the_documents_over_the_fields_default():
	frappe.db.sql("DELETE FROM `tabSingles` WHERE doctype = 'Async Jobs Settings' AND field = 'max_backlog'")
	assert settings.get("max_backlog") == settings.load().max_backlog == 1000  # the field's default
	frappe.db.set_single_value("Async Jobs Settings", "max_backlog", 250)
	assert settings.get("max_backlog") == settings.load().max_backlog == 250  # the document's
	frappe.local.conf.async_jobs_max_backlog = 7
	try:
		assert settings.get("max_backlog") == settings.load().max_backlog == 7  # the site config's
	finally:
		del frappe.local.conf["async_jobs_max_backlog"]


def test_durations_fall_back_to_their_default_when_zero_or_unset():
	conf = frappe.local.conf
	assert settings.seconds("cancel_grace_seconds") == world.CANCEL_GRACE  # the test site's config
	assert settings.seconds("recover_seconds") == world.RECOVER_AFTER
	conf.async_jobs_cancel_grace_seconds, recover = 0, conf.pop("async_jobs_recover_seconds")
	try:
		assert settings.seconds("cancel_grace_seconds") == 10  # the field's default
		assert settings.seconds("recover_seconds") == settings.SITE_CONFIG_ONLY["recover_seconds"]
	finally:
		conf.async_jobs_cancel_grace_seconds, conf.async_jobs_recover_seconds = world.CANCEL_GRACE, recover
