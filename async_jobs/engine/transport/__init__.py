"""How work and messages leave the process: rq_jobs (a tracked job's push as an RQ job through Frappe's
execute_job), delayed (the bench-wide delayed set the stager moves), dispatch (the next push of a job from its
row), heartbeat (running jobs' beats), workers (RQ's workers: which still run, on which host), realtime (messages
to owners, documents and managers).

May import: ledger.
"""
