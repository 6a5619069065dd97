"""bench commands of async_jobs: `bench async-jobs <command>`."""

import signal

import click
import frappe


@click.group("async-jobs")
def async_jobs_group():
	"""Operate async_jobs."""


@async_jobs_group.command("stager")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the delayed set.")
@click.option("--lifeline-interval", default=10.0, show_default=True, help="Seconds between lifeline passes.")
def stager(interval: float, lifeline_interval: float):
	"""Stage delayed jobs on time and run the lifeline for every site (run one per bench, like the scheduler)."""
	from async_jobs.engine import stager as stager_process

	stopping = []
	signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
	click.echo(
		f"async_jobs stager: staging delayed jobs every {interval:g} s, lifeline every {lifeline_interval:g} s"
	)
	try:
		stager_process.run(interval, lifeline_interval, stop=lambda: bool(stopping))
	except KeyboardInterrupt:
		pass


commands = [async_jobs_group]
