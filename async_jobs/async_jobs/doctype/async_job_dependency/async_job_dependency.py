# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AsyncJobDependency(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		depends_on: DF.DynamicLink | None
		depends_on_type: DF.Link | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
	# end: auto-generated types

	"""One parent (a job or a batch) a waiting Async Job waits for; see async_jobs.engine.chains."""

	pass
