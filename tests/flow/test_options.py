"""Flow-control options are validated: a value out of range is a ValidationError naming the option and its range,
on enqueue and in a job type's declaration; a key is worked out from the job's arguments."""

import frappe
import pytest

import async_jobs
from async_jobs.engine.submit.flow import key_text, parse_rate
from async_jobs.engine.submit.registry import _build
from async_jobs.engine.views.waiting import Context, FlowFacts, QueueFacts, why_waiting

F = "async_jobs.testing.jobs."
BAD = {
	"concurrency_limit=0": ({"concurrency_limit": 0}, "concurrency_limit", "1 to 10000"),
	"concurrency_limit=1.5": ({"concurrency_limit": 1.5}, "concurrency_limit", "1 to 10000"),
	"concurrency_limit=True": ({"concurrency_limit": True}, "concurrency_limit", "1 to 10000"),
	"concurrency_key without a limit": ({"concurrency_key": "a"}, "concurrency_key", "concurrency_limit"),
	"concurrency_key not an argument": (
		{"concurrency_limit": 1, "concurrency_key": "company"},
		"concurrency_key",
		"no argument company",
	),
	"concurrency_key not importable": (
		{"concurrency_limit": 1, "concurrency_key": "no.such.fn"},
		"concurrency_key",
		"importable function",
	),
	'rate_limit="fast"': ({"rate_limit": "fast"}, "rate_limit", "5/s"),
	'rate_limit="0/s"': ({"rate_limit": "0/s"}, "rate_limit", "1 to 1000000"),
	'rate_limit="5/day"': ({"rate_limit": "5/day"}, "rate_limit", "24 h"),
	'rate_limit="5/2d"': ({"rate_limit": "5/48h"}, "rate_limit", "24 h"),
	"rate_key without a limit": ({"rate_key": "a"}, "rate_key", "rate_limit"),
	"expires_in=0": ({"expires_in": 0}, "expires_in", "1 to 31622400"),
	"expires_in=inf": ({"expires_in": float("inf")}, "expires_in", "1 to 31622400"),
	"expires_at in the past": ({"expires_at": "2001-01-01 00:00:00"}, "expires_at", "from now"),
	"expires_at not a date": ({"expires_at": "soon"}, "expires_at", "date and time"),
	"both expiries": ({"expires_in": 5, "expires_at": "2999-01-01"}, "expires_in", "one of them"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_flow_option_out_of_range_is_a_validation_error_naming_it_and_its_range(case):
	options, option, allowed = BAD[case]
	before = frappe.db.count("Async Job")
	with pytest.raises(frappe.ValidationError) as error:
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short", **options)
	frappe.db.rollback()
	assert option in str(error.value) and allowed in str(error.value), str(error.value)
	assert frappe.db.count("Async Job") == before


@pytest.mark.parametrize(
	"declaration, option",
	[
		({"concurrency_limit": -1}, "concurrency_limit"),
		({"rate_limit": "5/fortnight"}, "rate_limit"),
		({"rate_key": "x"}, "rate_key"),
		({"expires_in": -5}, "expires_in"),
		({"expires_at": "2999-01-01"}, "expires_at"),
	],
)
def test_a_job_type_declared_with_a_bad_flow_option_names_the_option(declaration, option):
	with pytest.raises(frappe.ValidationError, match=option):
		_build({"name": "aj-flow", "method": F + "add", **declaration})


def test_rates_and_keys_read_as_documented():
	assert (parse_rate("5/s").count, parse_rate("5/s").seconds) == (5, 1.0)
	assert parse_rate("100/min").seconds == 60 and parse_rate("1000/h").seconds == 3600
	assert parse_rate("10/30s").seconds == 30 and parse_rate("3 / 2 minutes").seconds == 120
	assert key_text("concurrency_key", "company", {"company": "ACME"}) == "company=ACME"
	assert key_text("concurrency_key", F + "limit_key_of", {"company": "acme"}) == "company=ACME"
	assert len(key_text("concurrency_key", "c", {"c": "x" * 500})) == 140


def test_a_job_type_limit_applies_unless_the_call_gives_its_own():
	_build({"name": "aj-flow-ok", "method": F + "add", "concurrency_limit": 2, "rate_limit": "1/min"})
	job = async_jobs.enqueue(
		F + "add", {"a": 1, "b": 2}, queue="short", concurrency_limit=3, rate_limit="2/h"
	)
	assert (job.concurrency_limit, job.concurrency_key, job.rate_limit) == (3, "", "2/3600s")
	frappe.db.rollback()


NOW = frappe.utils.get_datetime("2026-12-02 12:00:00")
UP = Context(now=NOW, stager_running=True, scheduler_active=True)


@pytest.mark.parametrize(
	"status, run_at, flow, expected",
	[
		(
			"Held",
			None,
			FlowFacts("limit", "company=ACME", 1, 1),
			"Held by limit company=ACME (1 of 1 running)",
		),
		("Held", None, FlowFacts("backpressure"), "Held back: queue long holds as many jobs"),
		(
			"Scheduled",
			NOW + frappe.utils.datetime.timedelta(seconds=3),
			FlowFacts("rate", rate="5/1s", rate_key="company=ACME"),
			"Spread by rate limit 5/1s company=ACME: starts in 3 s",
		),
		("Queued", None, FlowFacts(paused_since=NOW, paused_by="a@b.c"), "Queue long is paused (by a@b.c"),
	],
)
def test_why_a_job_held_by_flow_control_waits(status, run_at, flow, expected):
	assert expected in why_waiting(status, run_at, 0, "long", QueueFacts(2, 0, 1), UP, flow)
