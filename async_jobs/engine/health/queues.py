"""Queue health: per RQ queue the backlog, the age of its oldest waiting job and its workers, and the share of
jobs (tracked and observed) that failed lately, judged against the thresholds in Async Jobs Settings (0 turns a
check off). Queues are the bench's (Redis is shared by its sites); the failure rate is this site's ledger."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils.background_jobs import get_queue, get_queue_list, get_redis_conn
from rq.exceptions import NoSuchJobError
from rq.job import Job

from async_jobs.engine.health.alerts import Finding
from async_jobs.engine.ledger.status import FAILED_END_VALUES, JobStatus
from async_jobs.engine.transport import pause
from async_jobs.engine.transport import workers as rq_workers

FAILED = FAILED_END_VALUES
ENDED = (*FAILED, JobStatus.FINISHED.value)


@dataclass(frozen=True)
class QueueFacts:
	name: str
	waiting: int
	oldest_wait_seconds: float  # 0 when nothing waits
	workers: int


def queue_findings(queues: list[QueueFacts], config) -> list[Finding]:
	found = []
	for q in queues:
		start = _(
			"Start one: `bench worker --queue {0}` (production: add a worker for it and check `sudo supervisorctl status`)."
		).format(q.name)
		if q.waiting and not q.workers:
			found.append(
				Finding(
					f"no-worker:{q.name}",
					_("Queue {0} has {1} waiting jobs and no worker").format(q.name, q.waiting),
					_("No RQ worker listens on queue {0}: its jobs will never run.").format(q.name),
					start,
					queue=q.name,
				)
			)
		elif config.min_workers and q.workers < config.min_workers:
			found.append(
				Finding(
					f"few-workers:{q.name}",
					_("Queue {0} has {1} of at least {2} workers").format(
						q.name, q.workers, config.min_workers
					),
					_("Fewer workers than the settings ask for listen on queue {0}.").format(q.name),
					start,
					queue=q.name,
				)
			)
		if config.max_backlog and q.waiting > config.max_backlog:
			found.append(
				Finding(
					f"backlog:{q.name}",
					_("Queue {0} has a backlog of {1} jobs").format(q.name, q.waiting),
					_("More than {0} jobs wait in queue {1}.").format(config.max_backlog, q.name),
					_(
						"Add workers for queue {0} or find what floods it (`bench --site all async-jobs status`)."
					).format(q.name),
					queue=q.name,
				)
			)
		if config.max_wait_minutes and q.oldest_wait_seconds > config.max_wait_minutes * 60:
			found.append(
				Finding(
					f"slow-queue:{q.name}",
					_("The oldest job in queue {0} has waited {1} minutes").format(
						q.name, int(q.oldest_wait_seconds // 60)
					),
					_("Jobs in queue {0} wait longer than {1} minutes to start.").format(
						q.name, config.max_wait_minutes
					),
					_("Add workers for queue {0}, or move long jobs to the long queue.").format(q.name),
					queue=q.name,
				)
			)
	return found


def failure_finding(failed: int, ended: int, config) -> Finding | None:
	if not config.max_failure_rate or not ended or ended < (config.failure_min_jobs or 1):
		return None
	rate = 100.0 * failed / ended
	if rate <= config.max_failure_rate:
		return None
	return Finding(
		"failure-rate",
		_("{0:.0f} % of the jobs of the last {1} minutes failed").format(rate, config.failure_window_minutes),
		_("{0} of {1} jobs that ended failed (threshold {2:g} %).").format(
			failed, ended, config.max_failure_rate
		),
		_(
			"Open the Job Monitor, filter by Failed and read the errors; retry the fixed ones with `bench --site {0} async-jobs retry --status Failed`."
		).format(frappe.local.site),
	)


def gather_queues() -> list[QueueFacts]:
	facts = []
	now = datetime.utcnow()  # RQ stores UTC
	for name in get_queue_list():
		queue = get_queue(name)
		waiting = queue.count
		oldest = 0.0
		if waiting:
			job = _first_job(queue)
			if job and job.enqueued_at:
				oldest = max((now - job.enqueued_at.replace(tzinfo=None)).total_seconds(), 0.0)
		workers = len(rq_workers.alive(queue.connection, queue))  # not a dead host's leftovers
		facts.append(QueueFacts(name, waiting, oldest, workers))
	return facts


def _first_job(queue) -> Job | None:
	for job_id in queue.get_job_ids(0, 0):
		try:
			return Job.fetch(job_id, connection=queue.connection)
		except NoSuchJobError:
			return None
	return None


def gather_failures(now: datetime, window_minutes: int) -> tuple[int, int]:
	"""(failed, ended) among this site's jobs touched in the window (the modified index)."""
	rows = frappe.db.sql(
		"SELECT status, COUNT(*) FROM `tabAsync Job` WHERE modified >= %s AND status IN %s GROUP BY status",
		(now - timedelta(minutes=window_minutes or 60), ENDED),
	)
	counts = dict(rows)
	return sum(counts.get(s, 0) for s in FAILED), sum(counts.values())


def pause_findings(paused: dict[str, dict], config, now_epoch: float) -> list[Finding]:
	"""Queues paused longer than the settings allow (max_pause_minutes; 0 turns the check off)."""
	found = []
	for queue, info in sorted(paused.items()):
		minutes = (now_epoch - (info.get("at") or now_epoch)) / 60
		if config.max_pause_minutes and minutes > config.max_pause_minutes:
			found.append(
				Finding(
					f"paused:{queue}",
					_("Queue {0} has been paused for {1} minutes").format(queue, int(minutes)),
					_("Queue {0} was paused by {1}: none of its jobs starts while it is paused.").format(
						queue, info.get("by") or "?"
					),
					_(
						"Resume it when its work may run again: `bench async-jobs resume {0}`, or Resume on its card in the Job Monitor."
					).format(queue),
				)
			)
	return found


def findings(config, now: datetime) -> list[Finding]:
	found = queue_findings(gather_queues(), config)
	found += pause_findings(pause.paused(get_redis_conn()), config, time.time())
	if config.max_failure_rate:
		failure = failure_finding(*gather_failures(now, config.failure_window_minutes), config)
		if failure:
			found.append(failure)
	return found
