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
from async_jobs.engine.retry.policy import RetryPolicy

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
	extra: dict = field(default_factory=dict, compare=False)

	@property
	def browser_startable(self) -> bool:
		return bool(self.roles or self.reference_doctype)


_FIELDS = set(JobType.__dataclass_fields__) - {"extra"}


def _build(spec: dict) -> JobType:
	spec = dict(spec)
	if not spec.get("name") or not spec.get("method"):
		raise frappe.ValidationError(_("A job type needs a name and a method: {0}").format(spec))
	if spec.get("dedup") not in (None, *DEDUP_MODES):
		raise frappe.ValidationError(
			_("Job type {0}: unknown dedup mode {1}").format(spec["name"], spec["dedup"])
		)
	spec["roles"] = tuple(spec.get("roles") or ())
	try:
		RetryPolicy.from_value(spec.get("retry"))
	except (TypeError, ValueError) as e:
		raise frappe.ValidationError(_("Job type {0}: bad retry policy: {1}").format(spec["name"], e))
	extra = {k: spec.pop(k) for k in list(spec) if k not in _FIELDS}
	return JobType(**spec, extra=extra)


def job_types() -> dict[str, JobType]:
	"""All job types declared in the hooks of installed apps, then in the site config key
	`async_jobs_job_types` (same format), by name: later declarations override earlier ones."""
	specs = [*frappe.get_hooks("async_jobs_job_types"), *(settings.site_config("job_types") or [])]
	return {spec["name"]: _build(spec) for spec in specs}


def get_job_type(name: str | None, types: dict[str, JobType] | None = None) -> JobType:
	"""The job type `name` (from `types` when the caller already has them); a clear error if there is none."""
	if not name:
		frappe.throw(_("Give a job type."), frappe.ValidationError)
	job_type = (job_types() if types is None else types).get(name) if isinstance(name, str) else None
	if not job_type:
		frappe.throw(_("Unknown job type: {0}").format(name), frappe.DoesNotExistError)
	return job_type
