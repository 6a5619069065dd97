"""Importable job functions for tests: workers run them by dotted path (async_jobs.tests.fixtures.<name>)."""

import hashlib
import os
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


def sleep_quietly(seconds: float, marker: str | None = None) -> None:
	"""Sleep without ever calling progress(): only a hard stop or a timeout ends it early."""
	if marker:
		record_marker(marker)
	time.sleep(seconds)


def fingerprint_secrets(password: str, nested: dict) -> dict:
	"""Prove the job received the real (unredacted) values without echoing them."""
	return {
		"password_sha1": hashlib.sha1(password.encode()).hexdigest(),
		"api_key_sha1": hashlib.sha1(nested["api_key"].encode()).hexdigest(),
	}


def progress_loop(calls: int) -> float:
	"""Call progress() `calls` times in a tight loop; return the seconds it took."""
	started = time.perf_counter()
	for i in range(calls):
		async_jobs.progress(i + 1, calls)
	return time.perf_counter() - started
