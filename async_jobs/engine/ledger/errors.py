"""Exceptions a job raises (or sees) to steer its own lifecycle."""

import math

import frappe

from async_jobs.engine.ledger.status import MAX_DELAY


def is_seconds(value, most: float) -> bool:
	"""A real, finite number of seconds from 0 to `most` (not a bool, not NaN or infinity)."""
	return (
		not isinstance(value, bool)
		and isinstance(value, int | float)
		and math.isfinite(value)
		and 0 <= value <= most
	)


class JobCancelled(Exception):
	"""Raised inside a job by progress() once someone asked to cancel it. Let it propagate."""


class Snooze(Exception):
	"""Raise Snooze(seconds) to run again later without counting the attempt as a failure."""

	def __init__(self, seconds: float = 60):
		if not is_seconds(seconds, MAX_DELAY):
			# A job that asks for this fails at once (a ValidationError is never retried) with this message.
			raise frappe.ValidationError(f"Snooze needs a number of seconds from 0 to {MAX_DELAY} (a year)")
		super().__init__(f"snoozed for {seconds:g} s")
		self.seconds = float(seconds)


class WorkerLost(Exception):
	"""The attempt ended without the executor recording it: work horse killed, worker gone, out of memory."""


class HardTimeout(Exception):
	"""The attempt ran past its timeout and was killed (SIGALRM did not stop it)."""
