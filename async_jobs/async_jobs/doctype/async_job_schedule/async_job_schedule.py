# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AsyncJobSchedule(Document):
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
