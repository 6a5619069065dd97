"""Acting on jobs that exist: cancel (cancel_job), requeue (retry by hand), batch (cancel a batch's jobs, retry
its failed children), lifeline (finish the story of attempts that ended unrecorded, recover vanished RQ jobs).

May import: ledger, retry, transport, submit, batches, run.
"""
