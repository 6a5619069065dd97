"""Observing the site's plain RQ jobs in their work horse: Frappe's `before_job` / `after_job` hooks.

Every job Frappe runs (frappe.enqueue, the scheduler, ERPNext's reposts and imports) passes through execute_job,
which calls these hooks in the work horse under `bench worker` and the fast worker alike. A tracked job (our
executor) has its own ledger and is skipped. For the others the horse makes no database write, no query and, at
the start, no I/O at all: when the job ends, one event (what ran, for whom, with which arguments — redacted —, its
times and its end: Finished, Failed with its error, traceback and Error Log, Timed Out) goes to Redis in one
round trip on the connection RQ already holds; the stager writes it into the ledger (transport/observed.py,
control/observed.py). A job still running when the lifeline passes gets its Started row from RQ's started
registry; what a horse cannot tell (it was SIGKILLed, its worker died) the lifeline reads from RQ.

While an observed job runs, the progress Frappe's own calls report — `frappe.publish_progress`, ERPNext's
`item_reposting_progress`, Data Import's `data_import_progress` — is its progress: shown live (at most 4 messages
a second) and written to its row (at most once a second), like a tracked job's. A failure that a Scheduled Job
Type swallows (Frappe logs it in Scheduled Job Log only and RQ sees a finished job) ends the row Failed.

Nothing here may break a job: every step is guarded and only logged when it fails.
"""

import json
import sys
import time
import traceback
from datetime import timezone

import frappe
from frappe.utils import cint, cstr, flt
from rq import get_current_job
from rq.timeouts import JobTimeoutException
from rq.utils import utcformat

from async_jobs.engine.ledger.observed import row_name
from async_jobs.engine.ledger.redact import redact, redact_text
from async_jobs.engine.ledger.status import JobStatus
from async_jobs.engine.run import progress
from async_jobs.engine.transport import observed as channel
from async_jobs.engine.transport.rq_jobs import EXECUTOR

SCHEDULED = "frappe.core.doctype.scheduled_job_type.scheduled_job_type.run_scheduled_job"
LOCAL = "async_jobs_observed"
ARGUMENTS_LIMIT = 10_000
STRING_LIMIT = 1000  # characters of one argument kept (before redaction: redacting megabytes costs)
ITEMS_LIMIT = 100  # items of one list or dict kept
DEPTH_LIMIT = 6


class Observed:
	"""The observed job running in this process (frappe.local.async_jobs_observed)."""

	def __init__(self, site: str, conn, name: str, owner: str, job_type: str):
		self.site, self.conn, self.name, self.owner, self.job_type = site, conn, name, owner, job_type
		self.started = time.time()
		self.error_log = None
		self.scheduled_job_type = None
		self.scheduled_failure = None
		self.reference = None
		self.done = self.total = self.message = None
		self._published = self._persisted = 0.0
		self.facts: dict = {}
		self.kwargs: dict = {}
		self.announced = False

	def start_fields(self) -> dict:
		"""What runs, for whom, with which arguments: sent once, with the first event of the run."""
		if self.announced:
			return {}
		self.announced = True
		return {**self.facts, "a": arguments(self.kwargs)}

	# progress ------------------------------------------------------------------------------------------------
	def percent(self) -> float:
		if not self.total:
			return 0.0
		return round(min(100.0, max(0.0, 100.0 * flt(self.done) / flt(self.total))), 2)

	def report(self, done, total, message, doctype=None, docname=None) -> None:
		self.done, self.total = done, total
		if message is not None:
			self.message = cstr(message)[:1000]
		if doctype and docname and not self.reference:
			self.reference = [doctype, docname]
		now = time.monotonic()
		finished = bool(total) and flt(done) >= flt(total)
		if finished or now - self._published >= progress.PUBLISH_EVERY:
			self._published = now
			# To the owner and the managers only: the document's own page already shows Frappe's progress.
			job = frappe._dict(
				name=self.name,
				job_type=self.job_type,
				owner=self.owner,
				reference_doctype=None,
				reference_name=None,
			)
			progress.publish(progress.EVENT, job, done, total, self.percent(), self.message)
		if finished or now - self._persisted >= progress.PERSIST_EVERY:
			self._persisted = now
			event = {"k": "progress", "n": self.name, **self.start_fields(), **self._progress_fields()}
			channel.push(self.conn, self.site, event)

	def _progress_fields(self) -> dict:
		fields = {}
		if self.done is not None:
			fields["p"] = [self.done, self.total, self.percent(), self.message]
		if self.reference:
			fields["r"] = self.reference
		return fields

	# the end -------------------------------------------------------------------------------------------------
	def end_event(self, exc_info) -> dict:
		exc = exc_info[1]
		event = {"k": "end", "n": self.name, "e": time.time(), "sa": self.started}
		event.update(self.start_fields())
		event.update(self._progress_fields())
		if exc is None:
			event["st"] = JobStatus.FINISHED.value
		else:
			timed_out = isinstance(exc, JobTimeoutException)
			event["st"] = (JobStatus.TIMED_OUT if timed_out else JobStatus.FAILED).value
			event["err"] = redact_text(f"{type(exc).__name__}: {cstr(exc)}")[:1000]
			event["tb"] = redact_text("".join(traceback.format_exception(*exc_info)))[-20_000:]
			if self.error_log:
				event["el"] = self.error_log
		if self.scheduled_job_type:
			event["sj"] = self.scheduled_job_type
		return event


def current() -> Observed | None:
	return getattr(frappe.local, LOCAL, None)


# Frappe's hooks ---------------------------------------------------------------------------------------------
def before_job(method=None, kwargs=None, **_ignored) -> None:
	if method == EXECUTOR:
		return  # a tracked job: the executor keeps its ledger
	try:
		_start(method, kwargs or {})
	except Exception:
		_complain("start")


def after_job(method=None, **_ignored) -> None:
	observed = current()
	if observed is None:
		return
	setattr(frappe.local, LOCAL, None)
	try:
		exc_info = sys.exc_info()  # inside execute_job's `finally`: the exception the job raised, if any
		if exc_info[1] is None and observed.scheduled_failure:
			exc_info = observed.scheduled_failure
		channel.push(observed.conn, observed.site, observed.end_event(exc_info))
	except Exception:
		_complain("end")


def error_logged(doc, method=None) -> None:
	"""doc_events: Error Log after_insert. The last Error Log of an observed job is the one its failure made."""
	observed = current()
	if observed is not None:
		observed.error_log = doc.name


def _start(method: str | None, kwargs: dict) -> None:
	"""Note what runs (no I/O: the facts travel with the job's end, or its first progress)."""
	job = get_current_job()
	if job is None or not method:
		return
	scheduled = method == SCHEDULED
	target = cstr(kwargs.get("job_type")) if scheduled and kwargs.get("job_type") else method
	enqueued = job.enqueued_at or job.created_at
	name = row_name(job.id, utcformat(enqueued) if enqueued else None)
	observed = Observed(
		frappe.local.site, job.connection, name, frappe.session.user or "Administrator", target
	)
	observed.facts = {
		"id": job.id,
		"m": target,
		"q": (job.origin or "").split(":", 1)[-1],
		"u": observed.owner,
		"qa": _epoch(enqueued),
		"sa": observed.started,
		"w": job.worker_name,
		"t": job.timeout,
	}
	if scheduled:
		observed.facts["s"] = 1
	observed.kwargs = kwargs
	_install_probes(scheduled)
	setattr(frappe.local, LOCAL, observed)


def _epoch(when) -> float | None:
	if when is None:
		return None
	return (when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when).timestamp()


def arguments(kwargs: dict) -> str:
	"""The job's arguments as the ledger shows them: shortened, then redacted, as JSON."""
	try:
		text = json.dumps(redact(_shorten(kwargs, 0)), indent=1, sort_keys=True, default=str)
	except (TypeError, ValueError):
		text = json.dumps(redact_text(repr(kwargs)[:ARGUMENTS_LIMIT]))
	return text if len(text) <= ARGUMENTS_LIMIT else text[:ARGUMENTS_LIMIT] + "\n…"


def _shorten(value, depth: int):
	if isinstance(value, str):
		return value if len(value) <= STRING_LIMIT else value[:STRING_LIMIT] + "…"
	if depth >= DEPTH_LIMIT:
		return "…"
	if isinstance(value, dict):
		items = list(value.items())[:ITEMS_LIMIT]
		return {cstr(k): _shorten(v, depth + 1) for k, v in items}
	if isinstance(value, list | tuple | set):
		return [_shorten(v, depth + 1) for v in list(value)[:ITEMS_LIMIT]]
	if value is None or isinstance(value, bool | int | float):
		return value
	return _shorten(cstr(value), depth + 1)


def _complain(step: str) -> None:
	try:
		frappe.logger("async_jobs.observe", allow_site=True).exception(f"observing a job's {step} failed")
	except Exception:
		pass


# Probes: Frappe has no hook for a job's progress or for a scheduled job's swallowed failure ----------------
_PROGRESS_EVENTS = frozenset({"progress", "item_reposting_progress", "data_import_progress"})
_installed: set[str] = set()


def _install_probes(scheduled: bool) -> None:
	"""Wrap frappe.publish_realtime / publish_progress (and, for a scheduled job, ScheduledJobType.log_status)
	once per process. The wrappers call the original first and act only while an observed job runs here."""
	if "realtime" not in _installed:
		_installed.add("realtime")
		frappe.publish_realtime = _wrap_realtime(frappe.publish_realtime)
		frappe.publish_progress = _wrap_progress(frappe.publish_progress)
	if scheduled and "scheduled" not in _installed:
		from frappe.core.doctype.scheduled_job_type.scheduled_job_type import ScheduledJobType

		_installed.add("scheduled")
		ScheduledJobType.log_status = _wrap_log_status(ScheduledJobType.log_status)


def _wrap_realtime(original):
	def publish_realtime(event=None, message=None, *args, **kwargs):
		result = original(event, message, *args, **kwargs)
		if event in _PROGRESS_EVENTS and event != "progress":
			_report(event, message, kwargs.get("doctype"), kwargs.get("docname"))
		return result

	publish_realtime.__wrapped__ = original
	return publish_realtime


def _wrap_progress(original):
	def publish_progress(percent=None, title=None, doctype=None, docname=None, description=None, **kwargs):
		result = original(percent, title, doctype, docname, description, **kwargs)
		_report(
			"progress", {"percent": percent, "title": title, "description": description}, doctype, docname
		)
		return result

	publish_progress.__wrapped__ = original
	return publish_progress


def _wrap_log_status(original):
	def log_status(self, status):
		observed = current()
		if observed is not None:
			observed.scheduled_job_type = self.name
			if status == "Failed" and sys.exc_info()[1] is not None:  # inside execute()'s `except`
				observed.scheduled_failure = sys.exc_info()
		return original(self, status)

	log_status.__wrapped__ = original
	return log_status


def _report(event: str, message, doctype, docname) -> None:
	observed = current()
	if observed is None or not isinstance(message, dict):
		return
	try:
		if event == "progress":
			done, total = flt(message.get("percent")), 100
			text = message.get("description") or message.get("title")
		elif event == "item_reposting_progress":
			done, total = cint(message.get("current_index")), cint(message.get("total_reposting_count"))
			text = frappe._("Reposting {0} of {1}").format(done, total)
		else:  # data_import_progress
			done, total = cint(message.get("current")), cint(message.get("total"))
			text = frappe._("Importing {0} of {1}").format(done, total)
			if message.get("data_import") and not doctype:
				doctype, docname = "Data Import", message["data_import"]
		observed.report(done, total, text, doctype, docname)
	except Exception:
		_complain("progress")
