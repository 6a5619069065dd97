"""What the operator commands print (`bench --site S async-jobs status | health | prune | retry`).

commands.py holds only the click declarations; each command calls one function here per site, inside that
site's context (frappe.init + connect, as Administrator)."""

from collections.abc import Callable

import click
import frappe
from frappe.utils import now_datetime

from async_jobs.engine.control.requeue import requeue_matching
from async_jobs.engine.health import alerts, queues, watchdog
from async_jobs.engine.ledger.status import WAITING, JobStatus
from async_jobs.engine.ops import prune
from async_jobs.engine.transport import workers as rq_workers

BAR_WIDTH = 24


def for_each_site(context, fn: Callable[[], int | None]) -> None:
	"""Run fn in every site of the command (--site, or all with --site all); exit with the worst exit code."""
	from frappe.commands import get_site

	sites = context.sites or [get_site(context)]
	worst = 0
	for site in sites:
		frappe.init(site=site)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			if "async_jobs" in frappe.get_installed_apps():
				worst = max(worst, fn() or 0)
			else:
				click.echo(f"{site}: async_jobs is not installed, skipped")
		finally:
			frappe.destroy()
	if worst:
		raise SystemExit(worst)


def bar(percent: float | None, width: int = BAR_WIDTH) -> str:
	"""A text progress bar: `[#########...............]  37%`."""
	percent = min(max(percent or 0.0, 0.0), 100.0)
	done = round(width * percent / 100)
	return f"[{'#' * done}{'.' * (width - done)}] {percent:3.0f}%"


def status() -> None:
	echo_title(f"async_jobs on {frappe.local.site}")
	click.echo("Queues (shared by the bench)")
	from async_jobs.engine.control.pause import paused_queues

	paused = paused_queues()
	for q in queues.gather_queues():
		oldest = f", oldest waiting {q.oldest_wait_seconds:,.0f} s" if q.waiting else ""
		stop = f"  PAUSED by {paused[q.name].get('by')}" if q.name in paused else ""
		click.echo(f"  {q.name:<12} {q.waiting:>7,} waiting  {q.workers:>3} workers{oldest}{stop}")
	counts = dict(
		frappe.db.sql(
			"SELECT status, COUNT(*) FROM `tabAsync Job` WHERE status IN %s GROUP BY status",
			([s.value for s in (*WAITING, JobStatus.STARTED)],),
		)
	)
	ledger = ", ".join(f"{s.value} {counts.get(s.value, 0):,}" for s in (*WAITING, JobStatus.STARTED))
	click.echo(f"Ledger of this site: {ledger}")
	workers = rq_workers.gather(frappe.utils.background_jobs.get_redis_conn())
	echo_workers([w for w in workers if w.alive], [w for w in workers if not w.alive])
	where = {w.name: w.label for w in workers}
	running = frappe.get_all(
		"Async Job",
		filters={"status": JobStatus.STARTED.value},
		fields=["name", "job_type", "progress_percent", "progress_message", "started_at", "worker"],
		order_by="started_at asc",
		limit=50,
	)
	click.echo(f"Running jobs ({len(running)})")
	now = now_datetime()
	for job in running:
		elapsed = (now - job.started_at).total_seconds() if job.started_at else 0
		message = f"  {job.progress_message}" if job.progress_message else ""
		host = f"  on {where.get(job.worker, 'a worker RQ no longer lists')}"
		click.echo(
			f"  {job.name}  {job.job_type:<24} {bar(job.progress_percent)}  {elapsed:,.0f} s{host}{message}"
		)


def echo_workers(alive: list, gone: list) -> None:
	"""Live workers by host, then those RQ still lists although they stopped (a host that died keeps them
	listed for minutes). Names identify workers; host and pid say where they run (pids repeat across hosts)."""
	click.echo(f"Workers ({len(alive)})")
	for w in sorted(alive, key=lambda w: (w.hostname, w.pid or 0)):
		click.echo(f"  {w.name:<34} {w.where:<28} {w.state:<9} queues {','.join(w.queues)}  {w.label}")
	if gone:
		click.echo(
			f"Gone: listed by RQ but not running ({len(gone)}): their host died, or Redis restarted under them"
		)
		for w in sorted(gone, key=lambda w: (w.hostname, w.pid or 0)):
			click.echo(f"  {w.name:<34} {w.where:<28} queues {','.join(w.queues)}  {w.label}")


def check_health() -> int:
	"""Run the watchdog now (alerts open and clear as in the scheduled check); exit code 1 while any is open."""
	changes = watchdog.check()
	open_now = alerts.open_alerts()
	echo_title(f"async_jobs health of {frappe.local.site}: {len(open_now)} open alert(s)")
	for key in changes["cleared"]:
		click.echo(f"cleared: {key}")
	for alert in open_now:
		new = " (new)" if alert.alert_key in changes["opened"] else ""
		if alert.status == alerts.ACKNOWLEDGED:
			new += f" (acknowledged by {alert.acknowledged_by})"
		elif alert.status == alerts.SNOOZED:
			new += f" (snoozed until {alert.snoozed_until})"
		click.secho(f"✗ {alert.title}{new}", fg="red", bold=True)
		click.echo(f"    {alert.message}")
		click.echo(f"    fix: {alert.fix}")
	if not open_now:
		click.secho("✓ no problems found", fg="green")
	return 1 if open_now else 0


def run_prune(dry_run: bool, batch: int | None) -> None:
	def progress(rule, deleted):
		click.echo(f"  {rule.label}: {deleted:,} deleted")

	click.echo(f"Pruning {frappe.local.site}{' (dry run: nothing is deleted)' if dry_run else ''}")
	for rule in prune.rules():
		statuses = f" ({', '.join(rule.statuses)})" if rule.statuses else ""
		click.echo(f"  rule: {rule.label}{statuses} older than {rule.days} days")
	result = prune.prune(dry_run=dry_run, batch=batch, progress=progress)
	verb = "would delete" if dry_run else "deleted"
	for label, count in result.counts.items():
		click.echo(f"{label}: {verb} {count:,}")
	rate = f", {result.total / result.seconds:,.0f} rows/s" if result.total and result.seconds else ""
	click.echo(
		f"Total {verb} {result.total:,} in {result.seconds:.1f} s{rate}; {result.statements} statements,"
		f" longest {result.longest_statement * 1000:.0f} ms"
	)


def retry(status: str | None, job_type: str | None, queue: str | None, owner: str | None) -> None:
	filters = {
		key: value
		for key, value in {"status": status, "job_type": job_type, "queue": queue, "owner": owner}.items()
		if value
	}
	names = requeue_matching(filters)
	frappe.db.commit()  # requeued jobs are pushed onto their queues after this commit
	click.echo(f"Retried {len(names)} job(s) on {frappe.local.site}")
	for name in names:
		click.echo(f"  {name}")


def echo_title(text: str) -> None:
	click.secho(text, bold=True)


def pause_queue(queue: str) -> None:
	"""`bench async-jobs pause QUEUE`: bench-wide, so no site is needed."""
	import getpass

	from async_jobs.engine.control import pause

	with frappe.init_site():
		try:
			pause.pause_queue(queue, by=f"bench ({getpass.getuser()})")
		except frappe.ValidationError as e:
			raise click.ClickException(str(e))
	click.echo(f"Queue {queue} paused: none of its jobs starts until `bench async-jobs resume {queue}`.")


def resume_queue(queue: str) -> None:
	from async_jobs.engine.control import pause

	with frappe.init_site():
		try:
			was_paused = pause.resume_queue(queue)
		except frappe.ValidationError as e:
			raise click.ClickException(str(e))
	click.echo(f"Queue {queue} resumed." if was_paused else f"Queue {queue} was not paused.")
