"""Running a tracked job in a worker: executor (record_started → perform → record_outcome), progress (inside
the job), monitor (the watcher thread: heartbeats, hard stop), ended (the one after-end seam every path that ends
an attempt calls: realtime end, batch, owner), notify (the owner's notification). run/fast is the fast worker.

May import: ledger, retry, transport, submit, batches.
"""
