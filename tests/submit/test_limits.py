"""Options out of range are a ValidationError that names the option and its range — never an OverflowError (a 500,
or a retry after the work was committed), a set of characters or a timeout of thirty years."""

import json

import frappe
import pytest

import async_jobs
from async_jobs.engine.ledger.status import MAX_DELAY, MAX_TIMEOUT
from async_jobs.engine.submit.registry import _build
from tests.support.checks import wait_for_status

F = "async_jobs.testing.jobs."
OUT_OF_RANGE = {
	"delay=inf": ({"delay": float("inf")}, "delay", str(MAX_DELAY)),
	"delay=1e12": ({"delay": 1e12}, "delay", str(MAX_DELAY)),
	"delay=nan": ({"delay": float("nan")}, "delay", str(MAX_DELAY)),
	"timeout=10**9": ({"timeout": 10**9}, "timeout", str(MAX_TIMEOUT)),
	'retry_on="X"': ({"retry": {"max_attempts": 2, "retry_on": "X"}}, "retry_on", "dotted paths"),
	"base=inf": ({"retry": {"max_attempts": 2, "base": float("inf")}}, "base", str(MAX_DELAY)),
	"max_attempts=10**6": ({"retry": 10**6}, "max_attempts", "100"),
}


@pytest.mark.parametrize("case", OUT_OF_RANGE)
def test_an_option_out_of_range_is_a_validation_error_naming_it_and_its_range(case):
	options, option, allowed = OUT_OF_RANGE[case]
	before = frappe.db.count("Async Job")
	with pytest.raises(frappe.ValidationError) as error:
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short", **options)
	frappe.db.rollback()
	assert option in str(error.value) and allowed in str(error.value), str(error.value)
	assert frappe.db.count("Async Job") == before


@pytest.mark.parametrize(
	"declaration, option",
	[({"roles": "X"}, "roles"), ({"timeout": 10**9}, "timeout"), ({"retry": {"retry_on": "X"}}, "retry")],
)
def test_a_job_type_declared_out_of_range_is_a_validation_error_naming_the_option(declaration, option):
	with pytest.raises(frappe.ValidationError, match=option):
		_build({"name": "aj-limits", "method": F + "add", **declaration})


@pytest.mark.worker
@pytest.mark.parametrize("seconds", [float("inf"), 1e12])
def test_a_snooze_out_of_range_fails_the_job_at_once_with_the_range(worker, seconds):
	name = async_jobs.enqueue(F + "snooze_for", {"seconds": seconds}, queue="short", retry=3).name
	frappe.db.commit()
	job = wait_for_status(name, "Failed")
	assert job.attempts == 1 and f"from 0 to {MAX_DELAY}" in job.error
	assert [a["status"] for a in json.loads(job.attempt_log)] == ["Failed"]
