"""Async Job Schedules: jobs run by cron expressions in a time zone, edited in the Desk or declared in hooks
(`async_jobs_schedules`), fired by the stager exactly once per tick. define.py validates a schedule, cron.py reads
its ticks, fire.py fires due ones, due.py tells the stager which sites have one due, sync.py writes the hooks'
schedules, view.py is what the form shows."""
