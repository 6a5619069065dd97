# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from async_jobs.engine.ledger.redact import REDACTED
from async_jobs.engine.submit import permissions


class AsyncJob(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from async_jobs.async_jobs.doctype.async_job_dependency.async_job_dependency import AsyncJobDependency

		arguments: DF.Code | None
		at_front: DF.Check
		attempt_log: DF.Code | None
		attempts: DF.Int
		batch: DF.Link | None
		cancel_requested: DF.Check
		chain: DF.Data | None
		chain_step: DF.Int
		concurrency_key: DF.Data | None
		concurrency_limit: DF.Int
		dedup_key: DF.Data | None
		dedup_lock: DF.Data | None
		dedup_mode: DF.Data | None
		email_owner: DF.Check
		encrypted_arguments: DF.LongText | None
		ended_at: DF.Datetime | None
		error: DF.SmallText | None
		error_log: DF.Link | None
		expires_at: DF.Datetime | None
		has_dependents: DF.Check
		held_by: DF.Data | None
		job_type: DF.Data | None
		kind: DF.Literal["Tracked", "Observed"]
		max_attempts: DF.Int
		method: DF.Data | None
		notify: DF.Literal["On Failure", "Always", "Never"]
		on_parent_failure: DF.Literal["", "cancel", "run"]
		progress_done: DF.Int
		progress_message: DF.SmallText | None
		progress_percent: DF.Percent
		progress_total: DF.Int
		queue: DF.Data | None
		queued_at: DF.Datetime | None
		rate_key: DF.Data | None
		rate_limit: DF.Data | None
		recovered: DF.Int
		reference_doctype: DF.Link | None
		reference_name: DF.DynamicLink | None
		result: DF.Code | None
		retry_policy: DF.Code | None
		rq_job_id: DF.Data | None
		run_at: DF.Datetime | None
		run_seconds: DF.Float
		schedule: DF.Link | None
		schedule_tick: DF.Data | None
		scheduled_job_type: DF.Link | None
		started_at: DF.Datetime | None
		status: DF.Literal[
			"Scheduled",
			"Queued",
			"Started",
			"Retrying",
			"Finished",
			"Failed",
			"Timed Out",
			"Dead",
			"Cancelled",
			"Lost",
			"Held",
			"Expired",
		]
		timeout: DF.Int
		traceback: DF.Code | None
		wait_seconds: DF.Float
		waits_for: DF.Table[AsyncJobDependency]
		worker: DF.Data | None
	# end: auto-generated types

	def onload(self):
		"""The form says "Secrets redacted" only when something was."""
		self.set_onload(
			"redacted",
			any(
				REDACTED in (self.get(field) or "") for field in ("arguments", "result", "error", "traceback")
			),
		)

	def on_trash(self):
		permissions.check_manager()


def on_doctype_update():
	"""Indexes for the dashboard's and the lists' queries."""
	frappe.db.add_index("Async Job", ["owner", "creation"], "owner_creation_index")
	frappe.db.add_index("Async Job", ["reference_doctype", "reference_name"], "reference_index")
	frappe.db.add_index("Async Job", ["status", "queue"], "status_queue_index")
	# (creation, status) also covers the monitor's per-hour counts without reading the rows.
	frappe.db.add_index("Async Job", ["creation", "status"], "creation_status_index")
	# Flow control: held jobs of one concurrency group, oldest first; held jobs of a queue (backpressure), oldest
	# first; waiting jobs past their expiry.
	frappe.db.add_index(
		"Async Job", ["status", "job_type", "concurrency_key", "creation"], "held_group_index"
	)
	frappe.db.add_index("Async Job", ["status", "queue", "creation"], "held_queue_index")
	frappe.db.add_index("Async Job", ["status", "expires_at"], "expiry_index")
	frappe.db.add_index("Async Job", ["batch", "status"], "batch_status_index")
