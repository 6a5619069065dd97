"""Ledger rows written straight into the table, many at once (for retention and CLI tests), and read back."""

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

INSERT_ROWS = 5000  # rows per multi-row INSERT when filling the ledger


def bulk_insert(marker: str, status: str, age_days: float, count: int) -> None:
	"""`count` ledger rows of `status` created `age_days` ago, written with multi-row INSERTs."""
	when = now_datetime() - timedelta(days=age_days)
	for start in range(0, count, INSERT_ROWS):
		rows = [
			(
				f"{marker}-{status[:3]}-{age_days}-{i}",
				when,
				when,
				"Administrator",
				"Administrator",
				status,
				marker,
				"short",
			)
			for i in range(start, min(start + INSERT_ROWS, count))
		]
		placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, 0)"] * len(rows))
		frappe.db.sql(
			"INSERT INTO `tabAsync Job` (name, creation, modified, owner, modified_by, status, job_type, queue,"
			f" docstatus) VALUES {placeholders}",
			[value for row in rows for value in row],
		)
	frappe.db.commit()


def left(marker: str) -> dict[str, int]:
	frappe.db.rollback()
	return dict(
		frappe.db.sql(
			"SELECT status, COUNT(*) FROM `tabAsync Job` WHERE job_type = %s GROUP BY status", marker
		)
	)
