"""A second database connection for ledger writes made while a job runs.

The job's own work lives in frappe.db's transaction, which the executor commits or rolls back as a whole. Progress
records made while that transaction is open go through this connection and are committed at once, so they survive
the job's rollback and never commit the job's half-done work. (The start is recorded before the job's transaction
begins and the end after it closed, on frappe.db itself.)
"""

import frappe
from frappe.database import get_db


class SideConnection:
	"""Connects on first use: most short jobs never need it."""

	def __init__(self):
		self._db = None

	@property
	def db(self):
		if self._db is None:
			conf = frappe.local.conf
			self._db = get_db(
				host=conf.db_host,
				port=conf.db_port,
				user=conf.db_name,
				password=conf.db_password,
				cur_db_name=conf.db_name,
			)
		return self._db

	def write(self, fn, *args, **kwargs):
		"""Run fn(*args, db=<this connection>, **kwargs) and commit it on its own."""
		try:
			result = fn(*args, db=self.db, **kwargs)
			self.db.commit()
			return result
		except Exception:
			self.db.rollback()
			raise

	def close(self) -> None:
		if self._db is not None:
			self._db.close()
