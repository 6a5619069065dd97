"""What the test suite and the benchmarks need inside the app, because workers import jobs only from installed apps
(they import the bench's copy of the app): jobs (job functions run by dotted path), fast_jobs (the fast worker's
tests' jobs), data_record (the seed flow's DocTypes, whitelisted start and job). Nothing here runs in production."""
