# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AsyncJobDependency(Document):
	"""One parent (a job or a batch) a waiting Async Job waits for; see async_jobs.engine.chains."""

	pass
