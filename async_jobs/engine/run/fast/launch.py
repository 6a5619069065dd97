"""Starting a fast worker (`bench async-jobs worker`): the site's queues, what every child imports before it is
forked, and the supervisor (worker.FastWorker)."""

import importlib
import os

import frappe
from frappe.utils.background_jobs import _freeze_gc, get_queue_list, get_redis_conn, set_niceness
from rq.logutils import setup_loghandlers

from async_jobs.engine.run.fast.worker import FastWorker


def preload() -> None:
	"""Import what jobs use before the child is forked: every child starts with it (copy-on-write)."""
	for module in (
		"frappe.database.query",
		"frappe.query_builder",
		"frappe.utils.data",
		"frappe.utils.safe_exec",
		"frappe.utils.typing_validations",
		"frappe.model.document",
		"frappe.model.base_document",
		"frappe.desk.form.load",
		"frappe.core.doctype.error_log.error_log",
		"frappe.email.queue",
		"frappe.realtime",
	):
		try:
			importlib.import_module(module)
		except Exception:
			pass
	for app in frappe.get_all_apps(with_internal_apps=True):
		for module in (app, f"{app}.hooks"):
			try:
				importlib.import_module(module)
			except Exception:
				pass


def start(
	queues: str | None,
	burst: bool = False,
	quiet: bool = False,
	max_jobs: int = 1000,
	max_memory_mb: int = 512,
	hard_timeout_grace: float = 60,
	shutdown_grace: float = 60,
) -> bool:
	"""Run a fast worker on these queues (comma-separated; default: all of the bench's queues) until stopped."""
	with frappe.init_site():
		connection = get_redis_conn()
		names = [q.strip() for q in queues.split(",")] if queues else None
		queue_list = get_queue_list(names, build_queue_name=True)
		preload()
	_freeze_gc()
	if os.environ.get("CI"):
		setup_loghandlers("ERROR")
	set_niceness()
	worker = FastWorker(
		queue_list,
		connection=connection,
		max_jobs_per_child=max_jobs,
		max_memory_mb=max_memory_mb,
		hard_timeout_grace=hard_timeout_grace,
		shutdown_grace=shutdown_grace,
	)
	return worker.work(
		logging_level="WARNING" if quiet else "INFO",
		burst=burst,
		date_format="%Y-%m-%d %H:%M:%S",
		log_format="%(asctime)s,%(msecs)03d %(message)s",
	)
