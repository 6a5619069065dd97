"""Retry policy and outcome decisions: pure functions, property-tested."""

import random

import frappe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rq.timeouts import JobTimeoutException

from async_jobs.engine.ledger.errors import HardTimeout, JobCancelled, Snooze, WorkerLost
from async_jobs.engine.retry.outcome import decide
from async_jobs.engine.retry.policy import RetryPolicy, backoff, exponential, is_retryable, jittered

bases = st.floats(min_value=0, max_value=1e4, allow_nan=False)
factors = st.floats(min_value=1, max_value=10, allow_nan=False)
caps = st.floats(min_value=0, max_value=1e6, allow_nan=False)
attempts = st.integers(min_value=1, max_value=5000)


@given(bases, factors, caps, attempts)
def test_exponential_backoff_never_shrinks_and_never_passes_its_cap(base, factor, cap, attempt):
	delay = exponential(attempt, base, factor, cap)
	assert 0 <= delay <= cap
	assert exponential(attempt + 1, base, factor, cap) >= delay


@given(bases, factors, st.floats(min_value=1e4, max_value=1e6))
def test_the_first_retry_waits_the_base_delay(base, factor, cap):
	assert exponential(1, base, factor, cap) == base


@given(st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=0.99), st.integers())
def test_jitter_stays_within_its_fraction(delay, fraction, seed):
	value = jittered(delay, fraction, random.Random(seed))
	assert delay * (1 - fraction) - 1e-9 <= value <= delay * (1 + fraction) + 1e-9


@given(st.integers(min_value=1, max_value=50), st.integers())
def test_backoff_with_jitter_is_bounded_by_the_policy(attempt, seed):
	policy = RetryPolicy(max_attempts=60, base=2, factor=3, max_delay=600, jitter=0.25)
	assert 0 <= backoff(policy, attempt, random.Random(seed)) <= 600 * 1.25


def test_input_and_permission_errors_are_never_retried_other_errors_are():
	policy = RetryPolicy(max_attempts=5)
	assert not is_retryable(policy, frappe.ValidationError("bad"))
	assert not is_retryable(policy, frappe.MandatoryError("missing"))  # a ValidationError subclass
	assert not is_retryable(policy, frappe.PermissionError())
	assert is_retryable(policy, ConnectionError())


def test_retry_on_limits_retries_to_the_listed_errors_and_their_subclasses():
	policy = RetryPolicy(max_attempts=5, retry_on=("builtins.OSError",))
	assert is_retryable(policy, ConnectionError())  # ConnectionError is an OSError
	assert not is_retryable(policy, KeyError())


@pytest.mark.parametrize(
	"policy, exc, made, verb",
	[
		(RetryPolicy(max_attempts=3), ConnectionError(), 1, "retry_later"),
		(RetryPolicy(max_attempts=3), ConnectionError(), 3, "discard"),
		(RetryPolicy(max_attempts=1), ConnectionError(), 1, "fail"),
		(RetryPolicy(max_attempts=3), frappe.ValidationError(), 1, "fail"),
		(RetryPolicy(max_attempts=3), JobTimeoutException(), 1, "retry_later"),
		(RetryPolicy(max_attempts=3), JobTimeoutException(), 3, "time_out"),
		(RetryPolicy(max_attempts=3, retry_timeouts=False), HardTimeout(), 1, "time_out"),
		(RetryPolicy(max_attempts=2), WorkerLost(), 1, "retry_later"),
		(RetryPolicy(max_attempts=1), WorkerLost(), 1, "fail"),
		(RetryPolicy(max_attempts=3), JobCancelled(), 1, "cancel"),
		(RetryPolicy(max_attempts=1), Snooze(5), 1, "snooze"),
	],
)
def test_each_kind_of_ending_gets_its_verb(policy, exc, made, verb):
	assert decide(policy, exc, made)[0] == verb


def test_a_snooze_waits_its_own_time_and_a_retry_waits_the_backoff():
	assert decide(RetryPolicy(), Snooze(42), 1) == ("snooze", 42.0)
	assert decide(RetryPolicy(max_attempts=2, base=7, jitter=0), ConnectionError(), 1) == ("retry_later", 7)


@pytest.mark.parametrize(
	"value",
	[0, -1, True, "3", {"max_attempts": 0}, {"tries": 3}, {"base": -1}, {"jitter": 1.5}, {"factor": 0.5}],
)
def test_bad_retry_settings_are_refused(value):
	with pytest.raises((ValueError, TypeError)):
		RetryPolicy.from_value(value)


def test_retry_settings_come_as_attempts_or_fields():
	assert RetryPolicy.from_value(4).max_attempts == 4
	assert RetryPolicy.from_value({"max_attempts": 2, "retry_on": ["builtins.KeyError"]}).retry_on == (
		"builtins.KeyError",
	)
	assert RetryPolicy.from_value(None).max_attempts == 1
