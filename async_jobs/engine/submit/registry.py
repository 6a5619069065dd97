"""Job types: an importable function plus its policy, declared by any installed app in its hooks.py:

	async_jobs_job_types = [
		{"name": "rebuild-stock-ledger", "method": "myapp.jobs.rebuild", "queue": "long", "timeout": 3600,
		 "roles": ["Stock Manager"], "reference_doctype": "Item", "retry": {"max_attempts": 5, "base": 30}},
	]

A site can add job types without an app in site_config.json under the same key. Only job types with `roles`
(or a `reference_doctype`) can be started from the browser.
"""

from dataclasses import dataclass, field

import frappe
from frappe import _

from async_jobs.engine.ledger import settings
from async_jobs.engine.ledger.status import MAX_TIMEOUT, NOTIFY_MODES
from async_jobs.engine.retry.policy import RetryPolicy
from async_jobs.engine.submit import flow

DEDUP_MODES = ("until_started", "until_finished")


@dataclass(frozen=True)
class JobType:
	name: str
	method: str
	queue: str = "default"
	timeout: int | None = None
	roles: tuple[str, ...] = ()  # who may start it from the browser
	reference_doctype: str | None = None  # browser starts also need `reference_ptype` on the document
	reference_ptype: str = "write"
	dedup: str | None = None
	label: str | None = None
	email_on_finish: bool = False
	notify: str | None = None  # "On Failure" (default), "Always", "Never"
	button: dict | None = None  # {"label": ..., "method": optional whitelisted method}: a button on the form
	retry: int | dict | None = None  # max attempts, or RetryPolicy fields (see engine/retry/policy.py)
	concurrency_limit: int | None = None  # flow control (see engine/submit/flow.py)
	concurrency_key: str | None = None
	rate_limit: str | None = None
	rate_key: str | None = None
	expires_in: float | None = None
	extra: dict = field(default_factory=dict, compare=False)

	@property
	def browser_startable(self) -> bool:
		return bool(self.roles or self.reference_doctype)

	@property
	def flow_options(self) -> dict:
		return {option: getattr(self, option, None) for option in flow.OPTIONS}


_FIELDS = set(JobType.__dataclass_fields__) - {"extra"}
PTYPES = ("read", "write", "create", "submit", "cancel", "delete")
_reported: set[str] = set()  # bad declarations already logged by this process


def is_timeout(value) -> bool:
	return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_TIMEOUT


def _build(spec) -> JobType:
	"""A JobType from one declaration; a ValidationError that names the bad option otherwise."""
	if not isinstance(spec, dict):
		raise frappe.ValidationError(_("A job type is declared as a dict, not {0}").format(repr(spec)[:100]))
	spec = dict(spec)
	name, method = spec.get("name"), spec.get("method")
	if not (isinstance(name, str) and name.strip() and isinstance(method, str) and "." in method):
		raise frappe.ValidationError(
			_("A job type needs a name and a method (a dotted path): {0}").format(spec)
		)

	def bad(option: str, allowed: str):
		raise frappe.ValidationError(_("Job type {0}: {1} must be {2}").format(name, option, allowed))

	roles = spec.get("roles") or ()
	if not isinstance(roles, list | tuple) or not all(isinstance(r, str) and r for r in roles):
		bad("roles", _("a list of role names"))
	spec["roles"] = tuple(roles)
	if spec.get("dedup") not in (None, *DEDUP_MODES):
		bad("dedup", _("one of {0}").format(", ".join(DEDUP_MODES)))
	if spec.get("timeout") is not None and not is_timeout(spec["timeout"]):
		bad("timeout", _("a whole number of seconds from 1 to {0}").format(MAX_TIMEOUT))
	if spec.get("notify") not in (None, *NOTIFY_MODES):
		bad("notify", _("one of {0}").format(", ".join(NOTIFY_MODES)))
	if spec.get("reference_ptype", "write") not in PTYPES:
		bad("reference_ptype", _("one of {0}").format(", ".join(PTYPES)))
	for option in ("queue", "reference_doctype", "label"):
		if spec.get(option) is not None and not isinstance(spec[option], str):
			bad(option, _("text"))
	if spec.get("button") is not None and not isinstance(spec["button"], dict):
		bad("button", _("a dict with a label (and optionally a method)"))
	try:
		RetryPolicy.from_value(spec.get("retry"))
	except (TypeError, ValueError) as e:
		bad("retry", _("a number of attempts or retry settings ({0})").format(e))
	if spec.get("expires_at") is not None:
		bad("expires_at", _("given per enqueue, not per job type (a job type has expires_in)"))
	flow.validate({k: spec.get(k) for k in flow.OPTIONS}, owner=name)
	extra = {k: spec.pop(k) for k in list(spec) if k not in _FIELDS}
	return JobType(**spec, extra=extra)


def job_types() -> dict[str, JobType]:
	"""All job types declared in the hooks of installed apps, then in the site config key
	`async_jobs_job_types` (same format), by name: later declarations override earlier ones. A bad declaration
	is logged (once per process) and skipped: it never breaks the others, the Desk's boot or an enqueue."""
	specs = [*frappe.get_hooks("async_jobs_job_types"), *(settings.site_config("job_types") or [])]
	key = (frappe.local.site, repr(specs))
	if key not in _built:
		if len(_built) > 16:
			_built.clear()
		_built[key] = _build_all(specs)
	return _built[key]


_built: dict[tuple, dict[str, JobType]] = {}  # the registry per site and declarations, built once per process


def _build_all(specs: list) -> dict[str, JobType]:
	types = {}
	for spec in specs:
		try:
			job_type = _build(spec)
		except frappe.ValidationError as e:
			_report(spec, e)
			continue
		types[job_type.name] = job_type
	return types


def _report(spec, error: Exception) -> None:
	key = f"{frappe.local.site}:{spec!r}"
	if key not in _reported:
		_reported.add(key)
		frappe.logger("async_jobs.registry", allow_site=False).error(
			f"async_jobs: skipping a bad job type declaration: {error}"
		)


def get_job_type(name: str | None, types: dict[str, JobType] | None = None) -> JobType:
	"""The job type `name` (from `types` when the caller already has them); a clear error if there is none."""
	if not name:
		frappe.throw(_("Give a job type."), frappe.ValidationError)
	job_type = (job_types() if types is None else types).get(name) if isinstance(name, str) else None
	if not job_type:
		frappe.throw(_("Unknown job type: {0}").format(name), frappe.DoesNotExistError)
	return job_type
