"""bench commands of async_jobs: `bench async-jobs <command>`."""

import signal

import click
import frappe


@click.group("async-jobs")
def async_jobs_group():
	"""Operate async_jobs."""


@async_jobs_group.command("stager")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the delayed set.")
def stager(interval: float):
	"""Move delayed jobs onto their queues when due (bench-wide; run one per bench, like the scheduler)."""
	from async_jobs.engine.transport import stager_loop

	stopping = []
	signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
	with frappe.init_site():
		click.echo(f"async_jobs stager: staging delayed jobs every {interval:g} s")
		try:
			stager_loop(interval, stop=lambda: bool(stopping))
		except KeyboardInterrupt:
			pass


commands = [async_jobs_group]
