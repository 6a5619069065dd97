"""Scheduler entry points registered in hooks.py `scheduler_events`, one line each.

Frappe names Scheduled Job Types after the last two dotted parts of the method, so every function here carries
an `async_jobs_` prefix to stay unique across apps.
"""

from async_jobs.engine import lifeline, transport


def async_jobs_stage_delayed():
	"""Backstop for delayed jobs when no stager process runs: move due ones onto their queues."""
	transport.stage_due()


def async_jobs_lifeline():
	"""Backstop for the lifeline when no stager process runs: reconcile lost and vanished jobs of this site."""
	lifeline.reconcile()
