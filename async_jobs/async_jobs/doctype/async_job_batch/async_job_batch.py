# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from async_jobs.engine.submit import permissions


class AsyncJobBatch(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		callback_arguments: DF.Code | None
		cancel_requested: DF.Check
		cancelled: DF.Int
		chunk_size: DF.Int
		complete_job: DF.Link | None
		completed_at: DF.Datetime | None
		encrypted_callback_arguments: DF.LongText | None
		ended: DF.Int
		error: DF.SmallText | None
		failed: DF.Int
		failure_job: DF.Link | None
		job_type: DF.Data | None
		method: DF.Data | None
		on_complete: DF.Data | None
		on_failure: DF.Data | None
		on_success: DF.Data | None
		planned_until: DF.Data | None
		planner_job: DF.Link | None
		progress_percent: DF.Percent
		queue: DF.Data | None
		reference_doctype: DF.Link | None
		reference_name: DF.DynamicLink | None
		sealed: DF.Check
		source_doctype: DF.Link | None
		source_filters: DF.Code | None
		started_at: DF.Datetime | None
		status: DF.Literal["Planning", "Running", "Finished", "Failed", "Cancelled"]
		succeeded: DF.Int
		success_job: DF.Link | None
		title: DF.Data | None
		total: DF.Int
	# end: auto-generated types

	def on_trash(self):
		permissions.check_manager()


def on_doctype_update():
	frappe.db.add_index("Async Job Batch", ["owner", "creation"], "owner_creation_index")
	frappe.db.add_index("Async Job Batch", ["reference_doctype", "reference_name"], "reference_index")
