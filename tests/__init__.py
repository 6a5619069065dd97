"""The test suite of async_jobs, against a real site with real workers (see README, Tests)."""
