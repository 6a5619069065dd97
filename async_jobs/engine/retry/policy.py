"""Retry policy: pure functions, no I/O. Exponential backoff with jitter, and which errors deserve another try."""

import json
import math
import random
from dataclasses import asdict, dataclass, field

from async_jobs.engine.ledger.errors import is_seconds
from async_jobs.engine.ledger.status import MAX_DELAY

MAX_ATTEMPTS = 100

# Errors that another attempt cannot fix: the input or the permissions are wrong.
NEVER_RETRY = (
	"frappe.exceptions.ValidationError",
	"frappe.exceptions.PermissionError",
	"frappe.exceptions.DoesNotExistError",
)


@dataclass(frozen=True)
class RetryPolicy:
	max_attempts: int = 1  # 1 = no retries, as frappe.enqueue
	base: float = 15.0  # seconds before the first retry
	factor: float = 2.0
	max_delay: float = 3600.0
	jitter: float = 0.2  # each delay varies by up to ± this fraction
	retry_on: tuple[
		str, ...
	] = ()  # exception classes (dotted paths) that retry; empty: any but `no_retry_on`
	no_retry_on: tuple[str, ...] = field(default=NEVER_RETRY)
	retry_timeouts: bool = True

	def __post_init__(self):
		if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
			raise ValueError(f"max_attempts must be a whole number from 1 to {MAX_ATTEMPTS}")
		if not 1 <= self.max_attempts <= MAX_ATTEMPTS:
			raise ValueError(f"max_attempts must be a whole number from 1 to {MAX_ATTEMPTS}")
		for option, low, high in (("base", 0, MAX_DELAY), ("max_delay", 0, MAX_DELAY), ("factor", 1, 100)):
			value = getattr(self, option)
			if not is_seconds(value, high) or value < low:
				raise ValueError(f"{option} must be a number from {low} to {high}")
		if not is_seconds(self.jitter, 1) or self.jitter == 1:
			raise ValueError("jitter must be a number from 0 to 1 (1 excluded)")
		for option in ("retry_on", "no_retry_on"):
			paths = getattr(self, option)
			if not isinstance(paths, tuple) or not all(isinstance(p, str) and "." in p for p in paths):
				raise ValueError(
					f"{option} must be a list of exception classes as dotted paths (e.g. builtins.ValueError)"
				)
		if not isinstance(self.retry_timeouts, bool):
			raise ValueError("retry_timeouts must be true or false")

	@classmethod
	def from_value(cls, value) -> "RetryPolicy":
		"""A policy from a RetryPolicy, a dict of its fields, a number of attempts, or None (no retries)."""
		if value is None:
			return cls()
		if isinstance(value, cls):
			return value
		if isinstance(value, int) and not isinstance(value, bool):
			return cls(max_attempts=value)
		if isinstance(value, dict):
			unknown = set(value) - set(cls.__dataclass_fields__)
			if unknown:
				raise ValueError(f"unknown retry settings: {', '.join(sorted(unknown))}")
			value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
			return cls(**value)
		raise ValueError(f"a retry policy is a number of attempts or a dict, not {type(value).__name__}")

	@classmethod
	def from_json(cls, text: str | None) -> "RetryPolicy":
		"""The policy stored on a ledger row (its `retry_policy` field; empty: no retries)."""
		return cls.from_value(json.loads(text) if text else None)

	def to_dict(self) -> dict:
		return asdict(self)


def exponential(attempt: int, base: float, factor: float, max_delay: float) -> float:
	"""Delay before retry number `attempt` (1 = the first retry): base · factor^(attempt-1), capped."""
	if attempt < 1:
		raise ValueError("attempt counts from 1")
	if base <= 0 or max_delay <= 0:
		return 0.0 if base <= 0 else min(max_delay, base)
	exponent = attempt - 1
	# Compare in log space first: factor**exponent overflows a float long before attempts run out.
	if math.log(base) + exponent * math.log(factor) >= math.log(max_delay):
		return max_delay
	return base * factor**exponent


def jittered(delay: float, fraction: float, rng: random.Random | None = None) -> float:
	"""`delay` moved by a uniform random amount of at most ± fraction of itself."""
	rng = rng or random
	return delay * (1 + rng.uniform(-fraction, fraction))


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
	return jittered(exponential(attempt, policy.base, policy.factor, policy.max_delay), policy.jitter, rng)


def _path_names(exc: BaseException) -> set[str]:
	return {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__}


def is_retryable(policy: RetryPolicy, exc: BaseException) -> bool:
	names = _path_names(exc)
	if names & set(policy.no_retry_on):
		return False
	return not policy.retry_on or bool(names & set(policy.retry_on))


def attempts_left(policy: RetryPolicy, attempts_made: int) -> bool:
	return attempts_made < policy.max_attempts


def attempts_in_round(policy: RetryPolicy, attempts: int, max_attempts: int | None) -> int:
	"""Attempts made in the current round. A job's row counts every attempt it ever made (`attempts`); a retry by
	hand starts a fresh round of the policy's max_attempts by raising the row's `max_attempts` by that much."""
	earlier_rounds = max(0, (max_attempts or policy.max_attempts) - policy.max_attempts)
	return max(0, attempts - earlier_rounds)
