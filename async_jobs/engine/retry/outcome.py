"""What an attempt's exception means for the job: one pure decision, used by the executor and the lifeline."""

import random

from rq.timeouts import JobTimeoutException

from async_jobs.engine.ledger.errors import HardTimeout, JobCancelled, Snooze
from async_jobs.engine.retry.policy import RetryPolicy, attempts_left, backoff, is_retryable


def decide(
	policy: RetryPolicy, exc: BaseException, attempts_made: int, rng: random.Random | None = None
) -> tuple[str, float | None]:
	"""(verb, seconds until the next run or None) for an attempt that ended with `exc`."""
	if isinstance(exc, JobCancelled):
		return "cancel", None
	if isinstance(exc, Snooze):
		return "snooze", exc.seconds
	timed_out = isinstance(exc, JobTimeoutException | HardTimeout)
	retryable = policy.retry_timeouts if timed_out else is_retryable(policy, exc)
	if retryable and attempts_left(policy, attempts_made):
		return "retry_later", backoff(policy, attempts_made, rng)
	if timed_out:
		return "time_out", None
	if not retryable or policy.max_attempts == 1:
		return "fail", None
	return "discard", None
