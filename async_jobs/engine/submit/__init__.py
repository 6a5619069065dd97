"""Putting jobs in: resolve (the one step from a caller's options to validated ones), enqueue (one job), dedup
(dedup keys and the insert that honours them), bulk (enqueue_many), registry (job types from hooks and site
config), permissions (who may see, start and cancel which jobs).

May import: ledger, retry, transport.
"""
