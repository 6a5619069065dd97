"""Job functions for the fast worker's tests: jobs that leave a mess, jobs that look for it, jobs that crash."""

import os
import signal
import threading
import time

import frappe

MESS_TABLE = "aj_mess_tmp"
SESSION_QUERY = "SELECT @aj_mess, @@sql_mode, @@time_zone, @@autocommit, @@collation_connection, DATABASE()"


def leave_a_mess(marker: str) -> int:
	"""Change everything a job can change in its process and on its connection, and leave a write uncommitted."""
	frappe.flags.aj_mess = marker
	frappe.local.aj_mess = marker
	frappe.conf.aj_mess = marker
	frappe.local.cache["aj_mess"] = marker
	os.environ["AJ_MESS"] = marker
	frappe.set_user("Guest")

	def after_the_commit():
		# execute_job has committed by now: this write stays open when the job ends
		frappe.db.sql(f"CREATE TEMPORARY TABLE {MESS_TABLE} (x INT)")  # Frappe allows it before any write
		frappe.db.sql("SET @aj_mess = 1")
		frappe.db.sql("SET SESSION sql_mode = '', time_zone = '+05:00'")
		frappe.db.sql("SELECT GET_LOCK(%s, 0)", marker)
		frappe.get_doc({"doctype": "ToDo", "description": f"{marker} uncommitted"}).insert(
			ignore_permissions=True
		)

	frappe.local.job.after_job.add(after_the_commit)
	return os.getpid()


def autocommit_on() -> int:
	"""Turn autocommit on for this connection (a later job would commit every statement at once)."""
	frappe.db.sql("SET SESSION autocommit = 1")
	return os.getpid()


def inspect_state(marker: str) -> dict:
	"""What this job sees of earlier jobs' mess (all of it should be gone)."""
	session = frappe.db.sql(SESSION_QUERY)[0]
	try:
		frappe.db.sql(f"SELECT * FROM {MESS_TABLE}")
		temp_table = True
	except Exception:
		temp_table = False
	return {
		"pid": os.getpid(),
		"user": frappe.session.user,
		"flags": frappe.flags.get("aj_mess"),
		"local": getattr(frappe.local, "aj_mess", None),
		"conf": frappe.conf.get("aj_mess"),
		"local_cache": frappe.local.cache.get("aj_mess"),
		"environ": os.environ.get("AJ_MESS"),
		"session": [str(v) for v in session],
		"temp_table": temp_table,
		"lock_free": frappe.db.sql("SELECT IS_FREE_LOCK(%s)", marker)[0][0] == 1,
		"threads": threading.active_count(),
		"job": frappe.local.job.method,
	}


def hooks_and_commit(marker: str) -> str:
	"""Write a ToDo (execute_job commits it) and register an after_job callback that leaves a mark in Redis."""
	frappe.get_doc({"doctype": "ToDo", "description": f"{marker} pid={os.getpid()}"}).insert(
		ignore_permissions=True
	)
	frappe.local.job.after_job.add(lambda: frappe.cache.set(f"aj-after-job:{marker}", frappe.session.user))
	return frappe.session.user


def pid() -> int:
	return os.getpid()


def crash(code: int = 3) -> None:
	"""Leave the process at once, as a segfaulting extension or os._exit would: no Python cleanup runs."""
	os._exit(code)


def sleep_then_mark(marker: str, seconds: float) -> int:
	"""Sleep, then write a ToDo: a job that must be allowed to finish during a graceful shutdown."""
	frappe.cache.set(f"aj-started:{marker}", os.getpid())
	time.sleep(seconds)
	frappe.get_doc({"doctype": "ToDo", "description": f"{marker} finished"}).insert(ignore_permissions=True)
	return os.getpid()


def change_process_state(zone: str) -> int:
	"""Install a SIGUSR1 handler and move the C library's time zone: a next job on the child must see neither."""
	signal.signal(signal.SIGUSR1, lambda *_: None)
	os.environ["TZ"] = zone
	time.tzset()
	return os.getpid()


def leave_a_thread(seconds: float) -> int:
	"""Start a thread that outlives the job (it could act while the child runs the next job)."""
	threading.Thread(target=time.sleep, args=(seconds,), name="aj-left-behind", daemon=True).start()
	return os.getpid()


def process_state() -> dict:
	return {
		"pid": os.getpid(),
		"sigusr1_default": signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL,
		"tzname": list(time.tzname),
		"threads": [t.name for t in threading.enumerate()],
	}
