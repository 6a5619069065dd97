"""The core of async_jobs: no @whitelist, no UI. Everything here is testable without a browser."""
