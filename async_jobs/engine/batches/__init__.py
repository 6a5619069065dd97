"""Batches: many child jobs with one row of counts, progress and exactly-once callbacks.

status (batch states, sealing the plan), view (what clients see, the realtime event, children page by page),
settle (a child ended: progress, or the batch's end and callbacks), plan (enqueueing children, keyset-planned
for records), start (enqueue_batch, enqueue_for_records).

May import: ledger, retry, transport, submit.
"""
