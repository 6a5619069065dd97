"""Retention: old ended jobs go in bounded batches, waiting and running jobs never; a dry run deletes nothing."""

import time
import uuid
from datetime import timedelta

import frappe
import pytest
from frappe.utils import now_datetime

from async_jobs.engine.ops import prune
from tests.support.ledger_rows import bulk_insert, left


@pytest.fixture(autouse=True)
def no_rows_left():
	"""The rows a test writes (waiting and running ones survive pruning) are gone afterwards."""
	yield
	frappe.db.sql("DELETE FROM `tabAsync Job` WHERE job_type LIKE 'aj-prune-%%' OR job_type LIKE 'aj-cli-%%'")
	frappe.db.commit()


def config(**overrides) -> frappe._dict:
	base = {
		"finished_retention_days": 30,
		"failed_retention_days": 90,
		"cancelled_retention_days": 30,
		"prune_error_log": 0,
		"error_log_retention_days": 30,
		"prune_scheduled_job_log": 0,
		"scheduled_job_log_retention_days": 30,
		"prune_batch_size": 1000,
	}
	return frappe._dict({**base, **overrides})


def test_retention_deletes_only_ended_rows_older_than_their_status_allows():
	marker = f"aj-prune-{uuid.uuid4().hex[:8]}"
	bulk_insert(marker, "Finished", 40, 30)
	bulk_insert(marker, "Finished", 5, 10)
	bulk_insert(marker, "Failed", 40, 7)  # failures are kept 90 days
	bulk_insert(marker, "Dead", 100, 4)
	bulk_insert(marker, "Cancelled", 31, 3)
	bulk_insert(marker, "Queued", 400, 5)  # waiting and running jobs stay whatever their age
	bulk_insert(marker, "Started", 400, 5)
	bulk_insert(marker, "Retrying", 400, 2)

	result = prune.prune(batch=8, config=config())

	assert left(marker) == {"Finished": 10, "Failed": 7, "Queued": 5, "Started": 5, "Retrying": 2}
	assert result.counts["Finished jobs"] >= 30 and result.counts["Cancelled jobs"] >= 3
	assert result.statements >= 2 * (30 // 8)  # a SELECT and a DELETE per batch of at most 8 rows


def test_a_dry_run_counts_what_would_go_and_deletes_nothing():
	marker = f"aj-prune-{uuid.uuid4().hex[:8]}"
	bulk_insert(marker, "Finished", 40, 12)
	bulk_insert(marker, "Lost", 100, 3)
	before = left(marker)

	dry = prune.prune(dry_run=True, config=config())

	assert left(marker) == before
	real = prune.prune(config=config())
	assert dry.counts == real.counts and dry.counts["Finished jobs"] >= 12 and dry.counts["Failed jobs"] >= 3
	assert left(marker) == {}


def test_zero_days_keeps_a_status_for_ever_and_logs_are_pruned_only_when_asked():
	rules = {rule.label for rule in prune.rules(config(cancelled_retention_days=0))}
	assert rules == {"Finished jobs", "Failed jobs", "Ended batches"}
	rules = {rule.label for rule in prune.rules(config(prune_error_log=1, prune_scheduled_job_log=1))}
	assert {"Error Log", "Scheduled Job Log"} <= rules


def test_an_ended_batch_goes_after_its_children_and_not_before():
	import async_jobs

	batches = []
	for _ in range(2):
		batch = async_jobs.enqueue_batch("async_jobs.testing.jobs.add", [{"a": 1, "b": 1}], queue="short")
		frappe.db.commit()
		from async_jobs.engine.control.batch import cancel_batch_jobs, requeue_failed_children

		cancel_batch_jobs(batch.name)
		batches.append(batch.name)
	long_ago = now_datetime() - timedelta(days=60)
	for name in batches:
		frappe.db.sql(
			"UPDATE `tabAsync Job Batch` SET creation = %s, modified = %s WHERE name = %s",
			(long_ago, long_ago, name),
		)
	kept_child = frappe.db.get_value("Async Job", {"batch": batches[1]}, "name")
	frappe.db.sql(  # the first batch's child is old too; the second's is recent
		"UPDATE `tabAsync Job` SET creation = %s, modified = %s WHERE batch = %s",
		(long_ago, long_ago, batches[0]),
	)
	frappe.db.commit()

	result = prune.prune(config=config())

	assert not frappe.db.exists("Async Job Batch", batches[0]) and result.counts["Ended batches"] >= 1
	assert frappe.db.exists("Async Job Batch", batches[1]) and frappe.db.exists("Async Job", kept_child)
	frappe.db.delete("Async Job", {"batch": batches[1]})
	frappe.db.delete("Async Job Batch", batches[1])
	frappe.db.commit()


def test_old_error_logs_go_when_error_log_retention_is_on():
	old = frappe.get_doc({"doctype": "Error Log", "method": "aj-prune-old", "error": "old"}).insert()
	new = frappe.get_doc({"doctype": "Error Log", "method": "aj-prune-new", "error": "new"}).insert()
	long_ago = now_datetime() - timedelta(days=60)
	frappe.db.sql(
		"UPDATE `tabError Log` SET creation = %s, modified = %s WHERE name = %s",
		(long_ago, long_ago, old.name),
	)
	frappe.db.commit()

	prune.prune(config=config(prune_error_log=1, error_log_retention_days=30))

	assert not frappe.db.exists("Error Log", old.name) and frappe.db.exists("Error Log", new.name)


def test_pruning_200000_ledger_rows_in_bounded_batches():
	marker = f"aj-prune-{uuid.uuid4().hex[:8]}"
	started = time.perf_counter()
	bulk_insert(marker, "Finished", 45, 200_000)
	inserted = time.perf_counter() - started
	bulk_insert(marker, "Queued", 45, 3)
	batches = []

	result = prune.prune(batch=5000, config=config(), progress=lambda rule, done: batches.append(done))

	assert left(marker) == {"Queued": 3}
	assert result.counts["Finished jobs"] >= 200_000 and batches[-1] >= 200_000
	print(
		f"\n200,000 rows: inserted in {inserted:.1f} s; pruned in {result.seconds:.1f} s"
		f" ({result.total / result.seconds:,.0f} rows/s) with {result.statements} statements;"
		f" longest single statement {result.longest_statement * 1000:.0f} ms"
	)
