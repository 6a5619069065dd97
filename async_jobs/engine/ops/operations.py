"""Helpers of the operations tasks in tasks.py: the enable flags, and long work moved onto the long queue."""

import frappe

from async_jobs.engine.ledger import settings


def run_if_enabled(flag: str, fn, *args):
	"""Call fn(*args) when the settings' `flag` is on; None otherwise."""
	if settings.get(flag):
		return fn(*args)
	return None


def enqueue_long(method: str) -> None:
	"""Run `method` on the long queue, once (a second enqueue while it waits or runs is skipped)."""
	frappe.enqueue(method, queue="long", job_id=f"async_jobs::{method}", deduplicate=True, timeout=1500)
