"""Importable job functions for tests: workers run them by dotted path (async_jobs.testing.jobs.<name>)."""

import hashlib
import json
import os
import socket
import time

import frappe

import async_jobs


def record_marker(marker: str) -> None:
	"""Leave a ToDo that says which process ran the job, and as whom."""
	frappe.get_doc(
		{"doctype": "ToDo", "description": f"{marker} pid={os.getpid()} user={frappe.session.user}"}
	).insert(ignore_permissions=True)


def record_marker_then_fail(marker: str) -> None:
	"""Write a ToDo, then raise: the worker must roll the write back."""
	record_marker(marker)
	raise RuntimeError(f"deliberate failure {marker}")


def record_marker_after_failures(marker: str, failures: int) -> str:
	"""Fail the first `failures` attempts; then leave a ToDo (record_marker) and return the user it ran as."""
	attempt = _attempt(marker)
	if attempt <= failures:
		raise ConnectionError(f"failure {attempt} of {failures} before the marker")
	record_marker(marker)
	return frappe.session.user


def record_callback_marker(batch: str, marker: str) -> str:
	"""A batch callback that leaves a ToDo (record_marker) and returns the user it ran as."""
	record_marker(marker)
	return frappe.session.user


def add(a: int, b: int) -> int:
	return a + b


def whoami() -> dict:
	return {"user": frappe.session.user, "site": frappe.local.site, "pid": os.getpid()}


def steps(n: int, delay: float, marker: str | None = None) -> int:
	"""n steps of `delay` seconds, reporting progress after each; writes a ToDo first when given a marker."""
	if marker:
		record_marker(marker)
	for i in range(n):
		time.sleep(delay)
		async_jobs.progress(i + 1, n, f"step {i + 1} of {n}")
	return n


def steps_then_fail(n: int, delay: float, message: str) -> None:
	"""n steps of `delay` seconds reporting `message`, then a failure whose error repeats it."""
	for i in range(n):
		time.sleep(delay)
		async_jobs.progress(i + 1, n, f"{message} {i + 1}")
	raise RuntimeError(f"{message}: failed")


def sleep_quietly(seconds: float, marker: str | None = None) -> None:
	"""Sleep without ever calling progress(): only a hard stop or a timeout ends it early."""
	if marker:
		record_marker(marker)
	time.sleep(seconds)


def fingerprint_secrets(password: str, nested: dict) -> dict:
	"""Prove the job received the real (unredacted) values without echoing them."""
	return {
		"sha1_of_the_first": hashlib.sha1(password.encode()).hexdigest(),
		"sha1_of_the_second": hashlib.sha1(nested["api_key"].encode()).hexdigest(),
	}


def fail_with_secrets(password: str, url: str) -> None:
	"""Fail with an error that shows a URL with credentials and a token (the arguments sit in this frame)."""
	token = password[::-1]
	raise ConnectionError(f"cannot reach {url} with token={token}")


def return_secrets(token: str, url: str) -> dict:
	"""A result that carries secrets: under a secret key, in a URL, in a JSON string."""
	return {"token": token, "url": url, "payload": json.dumps({"otp": token})}


def progress_loop(calls: int) -> float:
	"""Call progress() `calls` times in a tight loop; return the seconds it took."""
	started = time.perf_counter()
	for i in range(calls):
		async_jobs.progress(i + 1, calls)
	return time.perf_counter() - started


def _attempt(marker: str) -> int:
	"""Count this job's attempts in Redis (the database would roll the count back with a failed attempt)."""
	return frappe.cache.incr(f"aj-attempts:{marker}")


def flaky(marker: str, failures: int) -> int:
	"""Fail the first `failures` attempts, then succeed; returns the attempt that succeeded."""
	attempt = _attempt(marker)
	if attempt <= failures:
		raise ConnectionError(f"flaky failure {attempt} of {failures}")
	return attempt


def invalid(marker: str) -> None:
	_attempt(marker)
	frappe.throw("this input can never work", frappe.ValidationError)


def snooze_once(marker: str, seconds: float) -> int:
	attempt = _attempt(marker)
	if attempt == 1:
		raise async_jobs.Snooze(seconds)
	return attempt


def publish_pid_then_sleep(marker: str, seconds: float, times: int = 1) -> int:
	"""Put this work horse's pid in Redis and sleep (only on the first `times` attempts) for a test to kill it."""
	attempt = _attempt(marker)
	frappe.cache.set(f"aj-pid:{marker}", os.getpid())
	if attempt <= times:
		time.sleep(seconds)
	return attempt


def wait_for_go(marker: str) -> int:
	"""Publish this attempt's pid, wait until the test says go for this attempt, return the attempt's number."""
	attempt = _attempt(marker)
	frappe.cache.set(f"aj-pid:{marker}:{attempt}", os.getpid())
	deadline = time.monotonic() + 120
	while not frappe.cache.get(f"aj-go:{marker}:{attempt}") and time.monotonic() < deadline:
		time.sleep(0.05)
	return attempt


def snooze_for(seconds: float) -> None:
	raise async_jobs.Snooze(seconds)


def ignore_timeout_and_sleep(seconds: float) -> None:
	"""A job that SIGALRM cannot stop (as C code holding the GIL would behave): only a kill ends it."""
	import signal

	signal.signal(signal.SIGALRM, signal.SIG_IGN)
	time.sleep(seconds)


def chaos_job(run: str, index: int, duration: float, steps: int = 3) -> int:
	"""A chaos-suite job: some work with progress, then one side effect in the job's own transaction."""
	for i in range(steps):
		time.sleep(duration / steps)
		async_jobs.progress(i + 1, steps)
	frappe.db.sql(
		"INSERT INTO aj_chaos_effect (run, job_index, pid) VALUES (%s, %s, %s)", (run, index, os.getpid())
	)
	return index


def on_host(run: str, index: int, seconds: float = 0.0) -> str:
	"""A two-host-test job: some work, then one side effect in the job's own transaction: the host it ran on."""
	time.sleep(seconds)
	host = socket.gethostname()
	frappe.db.sql("INSERT INTO aj_host_effect (run, job_index, host) VALUES (%s, %s, %s)", (run, index, host))
	return host


def bare_loop(calls: int) -> float:
	"""progress_loop's loop without the progress() call: the baseline of the progress benchmark."""
	started = time.perf_counter()
	done = 0
	for i in range(calls):
		done = i + 1
	return time.perf_counter() - started if done == calls else -1.0


# Batches


def _callback(batch: str, kind: str) -> int:
	"""Count a callback's runs in Redis (a run counts even if its transaction were rolled back)."""
	return frappe.cache.incr(f"aj-batch-callback:{batch}:{kind}")


def on_batch_success(batch: str, **kwargs) -> int:
	return _callback(batch, "success")


def on_batch_complete(batch: str, **kwargs) -> int:
	return _callback(batch, "complete")


def on_batch_failure(batch: str, **kwargs) -> int:
	return _callback(batch, "failure")


def fail_unless_fixed(marker: str, index: int) -> int:
	"""Fail until the test sets the marker's 'fixed' flag (then a retry by hand succeeds)."""
	if not frappe.cache.get(f"aj-fixed:{marker}"):
		raise ValueError(f"child {index} is broken until fixed")
	return index


def meet_then_end(marker: str, parties: int = 2, patience: float = 30) -> int:
	"""Wait until `parties` jobs have arrived (at most `patience` seconds), then return together: they end at the
	same instant."""
	arrived = frappe.cache.incr(f"aj-barrier:{marker}")
	deadline = time.monotonic() + patience
	while int(frappe.cache.get(f"aj-barrier:{marker}") or 0) < parties and time.monotonic() < deadline:
		time.sleep(0.002)
	return arrived


def close_todos(names: list[str], marker: str) -> int:
	"""A records batch child: close each ToDo of its chunk and note which chunk did it."""
	for name in names:
		frappe.db.set_value("ToDo", name, "status", "Closed")
	frappe.cache.rpush(f"aj-chunks:{marker}", json.dumps(names))
	return len(names)


def mark_rows(names: list[str], doctype: str = "AJ Bench Row") -> int:
	"""The batch benchmark's per-chunk work: set a flag on each record, one UPDATE per record (as a loop of
	frappe.db.set_value in real code would)."""
	for name in names:
		frappe.db.set_value(doctype, name, "processed", 1, update_modified=False)
	return len(names)


# Plain frappe.enqueue jobs the ledger observes (tests/run/test_observe.py) -------------------------------------
def plain_ok(marker: str, password: str | None = None) -> str:
	"""A plain job that succeeds (its `password` argument must reach the ledger redacted)."""
	record_marker(marker)
	return marker


def plain_fail(marker: str) -> None:
	raise ValueError(f"plain job {marker} failed on purpose")


def plain_progress(steps: int, delay: float, marker: str) -> None:
	"""Report progress as Frappe's own jobs do (frappe.publish_progress), then wait for the test's go."""
	for i in range(steps):
		frappe.publish_progress(
			100 * (i + 1) / steps, title="Plain job", description=f"{marker} step {i + 1}"
		)
		time.sleep(delay)
	deadline = time.monotonic() + 60
	while not frappe.cache.get(f"aj-go:{marker}") and time.monotonic() < deadline:
		time.sleep(0.05)


def scheduled_tick() -> None:
	"""Run by a test's Scheduled Job Type through Frappe's scheduler path."""
	record_marker("scheduled_tick")


def scheduled_fail() -> None:
	"""A scheduled job whose failure Frappe swallows (only its Scheduled Job Log says Failed)."""
	raise RuntimeError("scheduled job failed on purpose")


def limited(company: str, seconds: float = 0.2) -> str:
	"""A job under a concurrency or rate limit: sleeps a little so that overlaps would show."""
	time.sleep(seconds)
	return company


def limit_key_of(company: str, **_kwargs) -> str:
	"""A concurrency_key function: the key of a job from its arguments."""
	return f"company={company.upper()}"


def record_step(marker: str, step: int) -> int:
	"""A chain step: leave a ToDo (record_marker) naming the step, and note when it ran, in order."""
	record_marker(f"{marker}-{step}")
	frappe.cache.rpush(f"aj-steps:{marker}", step)
	return step
