"""Scheduler entry points registered in hooks.py `scheduler_events`, one line each.

Frappe names Scheduled Job Types after the last two dotted parts of the method, so every function here carries
an `async_jobs_` prefix to stay unique across apps.
"""
