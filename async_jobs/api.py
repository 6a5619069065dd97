"""Whitelisted endpoints of async_jobs: permission check, one engine call, return.

The core lives in async_jobs.engine; nothing here holds logic of its own.
"""
