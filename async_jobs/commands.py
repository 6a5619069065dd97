"""bench commands of async_jobs: `bench async-jobs <command>`; and paused queues for `bench worker`."""

import functools
import signal

import click
import frappe
from frappe.commands import pass_context
from frappe.commands import scheduler as frappe_scheduler_commands


def _pause_aware(command: click.Command) -> None:
	"""Bench imports this module in every bench command's process: `bench worker` and `bench worker-pool` then
	build workers that skip paused queues (engine/transport/pause.py). Nothing else changes in them."""
	original = command.callback
	if getattr(original, "async_jobs_pause_aware", False):
		return

	@functools.wraps(original)
	def callback(*args, **kwargs):
		from async_jobs.engine.transport.pause import install_in_frappe

		install_in_frappe()
		return original(*args, **kwargs)

	callback.async_jobs_pause_aware = True
	command.callback = callback


_pause_aware(frappe_scheduler_commands.start_worker)
_pause_aware(frappe_scheduler_commands.start_worker_pool)


@click.group("async-jobs")
def async_jobs_group():
	"""Operate async_jobs."""


@async_jobs_group.command("stager")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the delayed set.")
@click.option("--lifeline-interval", default=10.0, show_default=True, help="Seconds between lifeline passes.")
def stager(interval: float, lifeline_interval: float):
	"""Stage delayed jobs on time and run the lifeline for every site (one per bench, or one per host: two stagers
	never move or recover a job twice)."""
	from async_jobs.engine.ops.stager import run_stager

	stopping = []
	signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
	click.echo(
		f"async_jobs stager: staging delayed jobs every {interval:g} s, lifeline every {lifeline_interval:g} s"
	)
	try:
		run_stager(interval, lifeline_interval, stop=lambda: bool(stopping))
	except KeyboardInterrupt:
		pass


@async_jobs_group.command("status")
@pass_context
def status(context):
	"""Queues, workers and running jobs with their progress."""
	from async_jobs import cli

	cli.for_each_site(context, cli.status)


@async_jobs_group.command("health")
@pass_context
def health(context):
	"""Run the watchdog now and print the open alerts; exit code 1 while any is open."""
	from async_jobs import cli

	cli.for_each_site(context, cli.check_health)


@async_jobs_group.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--batch", type=int, help="Rows per DELETE (default: the settings' Records Deleted at a Time).")
@pass_context
def prune(context, dry_run: bool, batch: int | None):
	"""Delete ledger rows (and opted-in logs) past their retention, in small batches."""
	from async_jobs import cli

	cli.for_each_site(context, lambda: cli.run_prune(dry_run, batch))


@async_jobs_group.command("retry")
@click.option("--status", help="Failed, Timed Out, Dead, Cancelled or Lost (default: all of them).")
@click.option("--job-type")
@click.option("--queue")
@click.option("--owner")
@pass_context
def retry(context, status, job_type, queue, owner):
	"""Queue again every retryable job that matches the filters (at most 1000)."""
	from async_jobs import cli

	cli.for_each_site(context, lambda: cli.retry(status, job_type, queue, owner))


@async_jobs_group.command("pause")
@click.argument("queue")
def pause(queue: str):
	"""Pause a queue of the bench: no job of it starts (tracked or not) until `resume`; waiting jobs stay."""
	from async_jobs import cli

	cli.pause_queue(queue)


@async_jobs_group.command("resume")
@click.argument("queue")
def resume(queue: str):
	"""Resume a paused queue: its waiting jobs start again, in order."""
	from async_jobs import cli

	cli.resume_queue(queue)


@async_jobs_group.command("worker")
@click.option(
	"--queue", type=str, help="Queues to consume, comma-separated (default: all of the bench's queues)."
)
@click.option(
	"--max-jobs", default=1000, show_default=True, help="Jobs a child performs before it is replaced."
)
@click.option(
	"--max-memory-mb", default=512, show_default=True, help="Replace the child when its RSS passes this."
)
@click.option(
	"--hard-timeout-grace",
	default=60.0,
	show_default=True,
	help="Seconds past a job's timeout before its child is killed.",
)
@click.option(
	"--shutdown-grace",
	default=60.0,
	show_default=True,
	help="Seconds a running job gets to finish after SIGTERM.",
)
@click.option("--burst", is_flag=True, default=False, help="Exit when the queues are empty.")
@click.option("--quiet", is_flag=True, default=False, help="Log warnings only.")
def worker(
	queue: str | None,
	max_jobs: int,
	max_memory_mb: int,
	hard_timeout_grace: float,
	shutdown_grace: float,
	burst: bool,
	quiet: bool,
):
	"""A fast RQ worker: one long-lived child keeps Frappe initialised and performs many jobs (see README)."""
	from async_jobs.engine.run.fast import launch

	launch.start(
		queue,
		burst=burst,
		quiet=quiet,
		max_jobs=max_jobs,
		max_memory_mb=max_memory_mb,
		hard_timeout_grace=hard_timeout_grace,
		shutdown_grace=shutdown_grace,
	)


commands = [async_jobs_group]
