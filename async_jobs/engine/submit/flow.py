"""Flow-control options of a job, validated: a concurrency limit (and key), a rate limit (and key), an expiry.

A job type (hooks or site config) or an enqueue() call declares them; the call's options win. The keys are worked
out from each job's own arguments when it is enqueued and stored on its row, with the limits, so the worker that
starts it (engine/run/gate.py) needs nothing but the row:

- `concurrency_key`: an argument name ("company" → `company=ACME`) or the dotted path of a function called with the
  job's keyword arguments that returns the key ("one bulk delete per DocType").
- `rate_limit`: "5/s", "100/min", "1000/h" (also "10/30s"); `rate_key` as concurrency_key.
- `expires_in` (seconds) or `expires_at` (a datetime): a job not started by then ends Expired.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime
from frappe.utils.background_jobs import get_redis_conn

from async_jobs.engine.ledger.errors import is_seconds
from async_jobs.engine.ledger.status import MAX_DELAY
from async_jobs.engine.transport import delayed, rates

MAX_CONCURRENCY = 10_000
MAX_RATE_COUNT = 1_000_000
MAX_RATE_WINDOW = 24 * 3600
KEY_LENGTH = 140  # the ledger's Data field
MOVED_AFTER = 0.05  # seconds: a planned start later than this waits in the delayed set
OPTIONS = ("concurrency_limit", "concurrency_key", "rate_limit", "rate_key", "expires_in", "expires_at")
_UNITS = {
	"s": 1,
	"sec": 1,
	"second": 1,
	"m": 60,
	"min": 60,
	"minute": 60,
	"h": 3600,
	"hr": 3600,
	"hour": 3600,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")
_RATE_HELP = f"like 5/s, 100/min, 1000/h or 10/30s: 1 to {MAX_RATE_COUNT} starts per 1 s to 24 h"


@dataclass(frozen=True)
class Rate:
	count: int
	seconds: float

	@property
	def text(self) -> str:
		return f"{self.count}/{self.seconds:g}s"


def bad(option: str, allowed: str, owner: str | None = None):
	"""A ValidationError that names the option and what it may be (a job type's declaration: also the type)."""
	if owner:  # a declaration in hooks or site config: logged and skipped by the registry, never shown
		raise frappe.ValidationError(_("Job type {0}: {1} must be {2}").format(owner, option, allowed))
	frappe.throw(_("{0} must be {1}").format(option, allowed), frappe.ValidationError)


def parse_rate(value, owner: str | None = None) -> Rate:
	match = _RATE.match(value.lower()) if isinstance(value, str) else None
	unit = match and (_UNITS.get(match.group(3)) or _UNITS.get(match.group(3).rstrip("s")))
	if not match or not unit:
		bad("rate_limit", _RATE_HELP, owner)
	count, seconds = int(match.group(1)), int(match.group(2) or 1) * unit
	if not 1 <= count <= MAX_RATE_COUNT or not 1 <= seconds <= MAX_RATE_WINDOW:
		bad("rate_limit", _RATE_HELP, owner)
	return Rate(count, float(seconds))


def check_key(option: str, value, owner: str | None = None) -> None:
	"""An argument name, or the dotted path of an importable function."""
	if not isinstance(value, str) or not value.strip():
		bad(option, _("an argument name or the dotted path of a function of the arguments"), owner)
	if "." in value:
		try:
			frappe.get_attr(value)
		except Exception:
			bad(option, _("an importable function ({0} is not one)").format(value), owner)
	elif not value.isidentifier():
		bad(option, _("an argument name or the dotted path of a function of the arguments"), owner)


@dataclass(frozen=True)
class FlowOptions:
	"""The flow-control options shared by the jobs of one enqueue (per job: the keys and the expiry)."""

	concurrency_limit: int | None = None
	concurrency_key: str | None = None
	rate: Rate | None = None
	rate_key: str | None = None
	expires_in: float | None = None
	expires_at: datetime | None = None

	@property
	def any(self) -> bool:
		return bool(self.concurrency_limit or self.rate or self.expires_in or self.expires_at)

	def fields(self, kwargs: dict, run_at: datetime | None = None) -> dict:
		"""The ledger fields of one job with these options and these arguments."""
		if not self.any:
			return {}
		return {
			"concurrency_limit": self.concurrency_limit or 0,
			"concurrency_key": key_text("concurrency_key", self.concurrency_key, kwargs)
			if self.concurrency_limit
			else None,
			"rate_limit": self.rate.text if self.rate else None,
			"rate_key": key_text("rate_key", self.rate_key, kwargs) if self.rate else None,
			"expires_at": self.expiry(run_at),
		}

	def expiry(self, run_at: datetime | None = None) -> datetime | None:
		when = self.expires_at or (
			now_datetime() + timedelta(seconds=self.expires_in) if self.expires_in else None
		)
		if when and run_at and when <= run_at:
			bad("expires_at", _("after the job's run_at ({0})").format(run_at))
		return when


def options(declared: dict, given: dict, owner: str | None = None) -> FlowOptions:
	"""The options of a job type (`declared`) overridden by those of the call (`given`, None = not given),
	validated."""
	merged = {k: given.get(k) if given.get(k) is not None else declared.get(k) for k in OPTIONS}
	if given.get("expires_at") is not None and given.get("expires_in") is None:
		merged["expires_in"] = None  # an explicit instant replaces the type's expires_in
	return validate(merged, owner)


def validate(values: dict, owner: str | None = None) -> FlowOptions:
	limit, rate = values.get("concurrency_limit"), values.get("rate_limit")
	if limit is not None and (
		isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CONCURRENCY
	):
		bad("concurrency_limit", _("a whole number from 1 to {0}").format(MAX_CONCURRENCY), owner)
	for option, needs in (("concurrency_key", limit), ("rate_key", rate)):
		if values.get(option) is not None:
			check_key(option, values[option], owner)
			if not needs:
				bad(option, _("given with {0}").format(option.replace("_key", "_limit")), owner)
	expires_in, expires_at = values.get("expires_in"), values.get("expires_at")
	if expires_in is not None and (not is_seconds(expires_in, MAX_DELAY) or not expires_in):
		bad("expires_in", _("a number of seconds from 1 to {0} (a year)").format(MAX_DELAY), owner)
	if expires_in is not None and expires_at is not None:
		bad("expires_in", _("given without expires_at (give one of them)"), owner)
	when = None
	if expires_at is not None:
		try:
			when = get_datetime(expires_at)
		except Exception:
			when = None
		if not isinstance(when, datetime):
			bad("expires_at", _("a date and time"), owner)
		if when <= now_datetime() or when > now_datetime() + timedelta(seconds=MAX_DELAY):
			bad("expires_at", _("a date and time from now to a year from now"), owner)
	return FlowOptions(
		concurrency_limit=limit,
		concurrency_key=values.get("concurrency_key"),
		rate=parse_rate(rate, owner) if rate is not None else None,
		rate_key=values.get("rate_key"),
		expires_in=float(expires_in) if expires_in is not None else None,
		expires_at=when,
	)


def key_text(option: str, declaration: str | None, kwargs: dict) -> str:
	"""The key of one job, as the Desk shows it: `company=ACME` for an argument, the function's text otherwise; ""
	for none (one group for the whole job type)."""
	if not declaration:
		return ""
	if "." in declaration:
		try:
			value = frappe.get_attr(declaration)(**kwargs)
		except Exception as e:
			bad(
				option,
				_("a function that accepts the job's arguments ({0} raised {1})").format(declaration, e),
			)
		text = "" if value is None else str(value)
	else:
		if declaration not in kwargs:
			bad(option, _("an argument of the job; it has no argument {0}").format(declaration))
		text = f"{declaration}={kwargs[declaration]}"
	if len(text) > KEY_LENGTH:  # distinct keys stay distinct when cut
		text = text[: KEY_LENGTH - 13] + "~" + hashlib.sha1(text.encode()).hexdigest()[:12]
	return text


def group_id(site: str, job_type: str, key: str | None) -> str:
	"""The Redis name of a job type's group for one key (short and safe whatever the key holds)."""
	digest = hashlib.sha1(f"{job_type}\x1f{key or ''}".encode()).hexdigest()[:24]
	return f"{site}:{digest}"


def rate_group_id(site: str, job_type: str, rate_key: str | None) -> str:
	"""The Redis name of a job type's rate-limit group for one rate key."""
	return group_id(site, job_type, f"rate\x1f{rate_key or ''}")


def reserve_starts(
	options: FlowOptions, job_type: str, jobs: list[tuple[str, str]], run_at=None
) -> list[float]:
	"""Plan the starts of rate-limited jobs being enqueued, (name, rate key) each: seconds from now per job."""
	if not options.rate or not jobs:
		return [0.0] * len(jobs)
	conn, site, out = get_redis_conn(), frappe.local.site, {}
	not_before = delayed.epoch(run_at) if run_at else 0
	by_key: dict[str, list[str]] = {}
	for name, key in jobs:
		by_key.setdefault(key or "", []).append(name)
	for key, names in by_key.items():
		group = rate_group_id(site, job_type, key)
		delays = rates.reserve(conn, group, names, options.rate.count, options.rate.seconds, not_before)
		out.update(zip(names, delays, strict=True))
	return [out[name] for name, _key in jobs]
