"""Retention: delete old ledger rows (and, opt-in, old Error Log and Scheduled Job Log rows) in small batches.

Each batch is one index-driven SELECT of at most `batch` keys (oldest first: the ledger's (creation, status)
index, the logs' modified index) and one DELETE of exactly those keys by primary key, committed on its own: no
statement touches more than `batch` rows or holds its locks for long (benchmarks/prune.py). Waiting and running
jobs are never deleted, whatever their age. A dry run counts what would go and deletes nothing.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import frappe
from frappe.utils import now_datetime

from async_jobs.engine.ledger import settings
from async_jobs.engine.ledger.status import FAILED_ENDS, JobStatus

FAILED = FAILED_ENDS


@dataclass(frozen=True)
class Rule:
	"""Rows of `doctype` (with `status` in `statuses`, when given) created more than `days` days ago go."""

	label: str
	doctype: str
	days: int
	statuses: tuple[str, ...] = ()
	index: str = (
		"creation"  # the indexed column the batches walk: the ledger's (creation, status), logs' modified
	)
	condition: str = ""  # more SQL the rows must meet

	def cutoff(self, now: datetime) -> datetime:
		return now - timedelta(days=self.days)


@dataclass
class Result:
	dry_run: bool
	counts: dict[str, int] = field(default_factory=dict)
	statements: int = 0
	longest_statement: float = 0.0  # seconds, the slowest single SELECT or DELETE
	seconds: float = 0.0

	@property
	def total(self) -> int:
		return sum(self.counts.values())


def rules(config=None) -> list[Rule]:
	"""The retention rules the settings ask for; a ledger rule with 0 days keeps those rows for ever."""
	config = config or settings.load()
	ledger = [
		Rule("Finished jobs", "Async Job", config.finished_retention_days, (JobStatus.FINISHED.value,)),
		Rule("Failed jobs", "Async Job", config.failed_retention_days, tuple(s.value for s in FAILED)),
		Rule("Cancelled jobs", "Async Job", config.cancelled_retention_days, (JobStatus.CANCELLED.value,)),
	]
	ledger.append(  # after the ledger rules: a batch goes once its children have
		Rule(
			"Ended batches",
			"Async Job Batch",
			config.finished_retention_days,
			("Finished", "Failed", "Cancelled"),
			condition="NOT EXISTS (SELECT 1 FROM `tabAsync Job` j WHERE j.batch = `tabAsync Job Batch`.name)",
		)
	)
	found = [rule for rule in ledger if rule.days > 0]
	if config.prune_error_log and config.error_log_retention_days > 0:
		found.append(Rule("Error Log", "Error Log", config.error_log_retention_days, index="modified"))
	if config.prune_scheduled_job_log and config.scheduled_job_log_retention_days > 0:
		found.append(
			Rule(
				"Scheduled Job Log",
				"Scheduled Job Log",
				config.scheduled_job_log_retention_days,
				index="modified",
			)
		)
	return found


def prune(
	dry_run: bool = False,
	batch: int | None = None,
	now: datetime | None = None,
	config=None,
	progress: Callable[[Rule, int], None] | None = None,
) -> Result:
	"""Apply every retention rule. `progress(rule, deleted_so_far)` is called after each batch."""
	config = config or settings.load()
	batch = batch or config.prune_batch_size or 1000
	now = now or now_datetime()
	result = Result(dry_run=dry_run)
	started = time.perf_counter()
	for rule in rules(config):
		if dry_run:
			result.counts[rule.label] = _timed(result, count, rule, now)
		else:
			result.counts[rule.label] = _delete_all(rule, now, batch, result, progress)
	result.seconds = time.perf_counter() - started
	return result


def count(rule: Rule, now: datetime) -> int:
	where, values = _where(rule, now)
	return frappe.db.sql(f"SELECT COUNT(*) FROM `tab{rule.doctype}` WHERE {where}", values)[0][0]


def _delete_all(rule: Rule, now: datetime, batch: int, result: Result, progress) -> int:
	deleted = 0
	while True:
		names = _timed(result, oldest_keys, rule, now, batch)
		if not names:
			return deleted
		_timed(result, _delete, rule.doctype, names)
		frappe.db.commit()
		deleted += len(names)
		if progress:
			progress(rule, deleted)
		if len(names) < batch:
			return deleted


def oldest_keys(rule: Rule, now: datetime, batch: int) -> list[str]:
	"""At most `batch` names of rows the rule deletes, oldest first (a range scan of the creation index)."""
	where, values = _where(rule, now)
	return [
		row[0]
		for row in frappe.db.sql(
			f"SELECT name FROM `tab{rule.doctype}` WHERE {where} ORDER BY {rule.index} LIMIT {int(batch)}",
			values,
		)
	]


def _delete(doctype: str, names: list[str]) -> None:
	frappe.db.sql(f"DELETE FROM `tab{doctype}` WHERE name IN %(names)s", {"names": tuple(names)})
	if doctype == "Async Job":  # the rows naming what a job waited for (engine/chains) go with it
		frappe.db.sql(
			"DELETE FROM `tabAsync Job Dependency` WHERE parent IN %(names)s AND parenttype = 'Async Job'",
			{"names": tuple(names)},
		)


def _where(rule: Rule, now: datetime) -> tuple[str, dict]:
	"""Created before the cutoff and not touched since (a job retried by hand last week stays), in a pruned
	status when the rule names statuses."""
	values = {"cutoff": rule.cutoff(now), "statuses": rule.statuses}
	where = "creation < %(cutoff)s AND modified < %(cutoff)s"
	if rule.statuses:
		where += " AND status IN %(statuses)s"
	if rule.condition:
		where += f" AND {rule.condition}"
	return where, values


def _timed(result: Result, fn, *args):
	started = time.perf_counter()
	value = fn(*args)
	result.longest_statement = max(result.longest_statement, time.perf_counter() - started)
	result.statements += 1
	return value
