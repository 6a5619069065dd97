# Copyright (c) 2026, async_jobs developers and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AsyncJobsSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		cancel_grace_seconds: DF.Int
	# end: auto-generated types
	pass
