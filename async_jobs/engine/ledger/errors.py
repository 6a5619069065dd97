"""Exceptions a job raises (or sees) to steer its own lifecycle."""


class JobCancelled(Exception):
	"""Raised inside a job by progress() once someone asked to cancel it. Let it propagate."""


class Snooze(Exception):
	"""Raise Snooze(seconds) to run again later without counting the attempt as a failure."""

	def __init__(self, seconds: float = 60):
		if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
			raise ValueError("Snooze needs a non-negative number of seconds")
		super().__init__(f"snoozed for {seconds:g} s")
		self.seconds = float(seconds)


class WorkerLost(Exception):
	"""The attempt ended without the executor recording it: work horse killed, worker gone, out of memory."""


class HardTimeout(Exception):
	"""The attempt ran past its timeout and was killed (SIGALRM did not stop it)."""
