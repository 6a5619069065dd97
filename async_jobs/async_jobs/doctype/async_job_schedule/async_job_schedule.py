# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AsyncJobSchedule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		app: DF.Data | None
		arguments: DF.Code | None
		cron: DF.Data
		enabled: DF.Check
		job_type: DF.Autocomplete | None
		last_job: DF.Link | None
		last_outcome: DF.SmallText | None
		last_tick_at: DF.Datetime | None
		method: DF.Data | None
		missed_run_policy: DF.Literal["Run Once", "Skip"]
		missed_ticks: DF.Int
		next_run_at: DF.Datetime | None
		overlap_policy: DF.Literal["Skip", "Run Anyway"]
		queue: DF.Data | None
		retry_attempts: DF.Int
		run_when_scheduler_inactive: DF.Check
		schedule_name: DF.Data
		source: DF.Literal["Desk", "Hooks"]
		time_zone: DF.Autocomplete | None
		timeout: DF.Int
	# end: auto-generated types

	"""A job run by a cron expression in a time zone; see async_jobs.engine.schedules."""

	def validate(self):
		from async_jobs.engine.schedules import define

		define.validate(self)

	def on_update(self):
		from async_jobs.engine.schedules import due

		due.mark_site()

	def after_delete(self):
		from async_jobs.engine.schedules import due

		due.mark_site()
