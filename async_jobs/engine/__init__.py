"""The core of async_jobs: no @whitelist, no UI. Everything here is testable without a browser.

Rooms, each importing only the rooms before it (and never the API, the Desk or the tests):
ledger → retry → transport → submit → batches → run (run/fast) → control → health → ops → views.
"""
