"""async_jobs: reliable, visible background jobs for Frappe.

import async_jobs

job = async_jobs.enqueue("myapp.tasks.rebuild", {"company": "ACME"}, queue="long", reference_doctype="Company",
	reference_name="ACME")

def rebuild(company):  # runs in a worker
	for i, row in enumerate(rows):
		async_jobs.progress(i + 1, len(rows), f"Row {row.name}")
"""

__version__ = "0.1.0"


# The engine is imported on first use, not with the app (Frappe imports every app's package at start).


def enqueue(method, kwargs=None, **options):
	"""Track and enqueue a job; see async_jobs.engine.submit.enqueue.enqueue for the options. Returns the Async Job."""
	from async_jobs.engine.submit.enqueue import enqueue as _enqueue

	return _enqueue(method, kwargs, **options)


def enqueue_many(method, items, **options):
	"""Track and enqueue method(**kwargs) for each kwargs in `items` with multi-row INSERTs and pipelined pushes
	(no delay or dedup; see async_jobs.engine.submit.bulk). Returns the Async Job names."""
	from async_jobs.engine.submit.bulk import enqueue_many as _enqueue_many

	return _enqueue_many(method, items, **options)


def enqueue_batch(method, items, **options):
	"""One tracked child job per argument set, grouped in an Async Job Batch with aggregated progress and
	callbacks (on_success, on_complete, on_failure); see async_jobs.engine.batches.start. Returns the batch."""
	from async_jobs.engine.batches.start import enqueue_batch as _enqueue_batch

	return _enqueue_batch(method, items, **options)


def enqueue_for_records(method, doctype, filters=None, **options):
	"""One tracked child job per chunk of matching records (method(names=[...])), planned by keyset pagination;
	see async_jobs.engine.batches.start. Returns the Async Job Batch."""
	from async_jobs.engine.batches.start import enqueue_for_records as _enqueue_for_records

	return _enqueue_for_records(method, doctype, filters, **options)


def chain(steps, **options):
	"""Enqueue `steps` — (method, kwargs) or (method, kwargs, options) — so that each starts when the one before
	has ended; a step that did not succeed cancels the rest (on_parent_failure="run": they run anyway). Options
	apply to every step; run_at, delay and after to the first. See async_jobs.engine.chains.plan. Returns the
	steps' Async Jobs."""
	from async_jobs.engine.chains.plan import chain as _chain

	return _chain(steps, **options)


def progress(done, total=None, message=None):
	"""Report progress from inside a tracked job (throttled; raises JobCancelled once cancel was asked)."""
	from async_jobs.engine.run.progress import progress as _progress

	return _progress(done, total, message)


def __getattr__(name):
	# The job-side exceptions, importable without loading the engine at app import: async_jobs.Snooze, …
	if name in ("Snooze", "JobCancelled"):
		from async_jobs.engine.ledger import errors

		return getattr(errors, name)
	raise AttributeError(name)


def cancel(name):
	"""Cancel a job by its Async Job name (no permission check: the caller decides)."""
	from async_jobs.engine.control.cancel import cancel_job

	return cancel_job(name)
