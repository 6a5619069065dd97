"""How work and messages leave the process: rq_jobs (a tracked attempt as an RQ job through Frappe's execute_job),
delayed (the bench-wide delayed set the stager moves), dispatch (the next attempt of a job from its row),
heartbeat (running jobs' beats), realtime (messages to owners, documents and managers).

May import: ledger.
"""
