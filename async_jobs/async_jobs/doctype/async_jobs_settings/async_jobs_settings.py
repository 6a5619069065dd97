# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from async_jobs.engine.health import recipients

NON_NEGATIVE = (
	"cancel_grace_seconds",
	"finished_retention_days",
	"failed_retention_days",
	"cancelled_retention_days",
	"error_log_retention_days",
	"scheduled_job_log_retention_days",
	"max_backlog",
	"max_wait_minutes",
	"min_workers",
	"failure_window_minutes",
	"failure_min_jobs",
	"failing_runs",
	"max_pause_minutes",
)
MAX_BATCH = 50_000


class AsyncJobsSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		alert_email: DF.Check
		alert_notification_log: DF.Check
		alert_realtime: DF.Check
		alert_role: DF.Link | None
		alert_users: DF.SmallText | None
		cancel_grace_seconds: DF.Int
		cancelled_retention_days: DF.Int
		digest_recipients: DF.SmallText | None
		enable_digest: DF.Check
		enable_monthly_report: DF.Check
		enable_pruning: DF.Check
		enable_watchdog: DF.Check
		error_log_retention_days: DF.Int
		failed_retention_days: DF.Int
		failing_runs: DF.Int
		failure_min_jobs: DF.Int
		failure_window_minutes: DF.Int
		finished_retention_days: DF.Int
		max_backlog: DF.Int
		max_failure_rate: DF.Percent
		max_pause_minutes: DF.Int
		max_wait_minutes: DF.Int
		min_workers: DF.Int
		observe_jobs: DF.Check
		prune_batch_size: DF.Int
		prune_error_log: DF.Check
		prune_scheduled_job_log: DF.Check
		report_recipients: DF.SmallText | None
		scheduled_job_log_retention_days: DF.Int
	# end: auto-generated types

	def validate(self):
		for field in NON_NEGATIVE:
			if (self.get(field) or 0) < 0:
				frappe.throw(
					_("{0} cannot be negative.").format(_(self.meta.get_label(field))), frappe.ValidationError
				)
		if not 1 <= (self.prune_batch_size or 0) <= MAX_BATCH:
			frappe.throw(
				_("{0} must be between 1 and {1}.").format(
					_(self.meta.get_label("prune_batch_size")), MAX_BATCH
				),
				frappe.ValidationError,
			)
		if not 0 <= (self.max_failure_rate or 0) <= 100:
			frappe.throw(
				_("{0} must be between 0 and 100 %.").format(_(self.meta.get_label("max_failure_rate"))),
				frappe.ValidationError,
			)
		for flag, field in (
			("prune_error_log", "error_log_retention_days"),
			("prune_scheduled_job_log", "scheduled_job_log_retention_days"),
		):
			if self.get(flag) and not self.get(field):
				frappe.throw(
					_("Give {0} (at least 1 day) or turn pruning of that log off.").format(
						_(self.meta.get_label(field))
					),
					frappe.ValidationError,
				)
		for field in ("alert_users", "digest_recipients", "report_recipients"):
			recipients.parse(self.get(field), label=_(self.meta.get_label(field)))
		if self.enable_watchdog and not recipients.alert_users(self):
			frappe.msgprint(
				_(
					"No enabled user has the role in Alert Users With Role and none is named in Also Alert These Users: alerts reach nobody."
				),
				title=_("Nobody would be alerted"),
				indicator="orange",
			)

	def on_update(self):
		# Work horses read observation's on/off from a Redis flag: written once this save is committed.
		from frappe.utils.background_jobs import get_redis_conn

		from async_jobs.engine.transport import observed

		on, site = bool(self.observe_jobs), frappe.local.site
		frappe.db.after_commit.add(lambda: observed.set_flag(get_redis_conn(), site, on))
