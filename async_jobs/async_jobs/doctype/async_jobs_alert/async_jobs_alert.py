# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class AsyncJobsAlert(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		acknowledged_at: DF.Datetime | None
		acknowledged_by: DF.Link | None
		alert_key: DF.Data | None
		cleared_at: DF.Datetime | None
		fix: DF.SmallText | None
		last_seen: DF.Datetime | None
		message: DF.SmallText | None
		opened_at: DF.Datetime | None
		queue: DF.Data | None
		reopened_at: DF.Datetime | None
		scheduled_job_type: DF.Link | None
		snoozed_by: DF.Link | None
		snoozed_until: DF.Datetime | None
		status: DF.Literal["Open", "Acknowledged", "Snoozed", "Cleared"]
		title: DF.Data | None
	# end: auto-generated types
	pass


def on_doctype_update():
	frappe.db.add_index("Async Jobs Alert", ["status", "alert_key"], "status_key_index")
