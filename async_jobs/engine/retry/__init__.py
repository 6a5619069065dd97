"""Retries, as pure functions without I/O: policy (RetryPolicy, exponential backoff with jitter, which errors
deserve another try) and outcome (what an attempt's exception means: the next verb and delay).

May import: ledger.
"""
