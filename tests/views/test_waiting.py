"""Why a waiting job waits: each case of the explanation, and the percentile the charts use."""

from datetime import datetime, timedelta

import pytest

from async_jobs.engine.views.dashboard import buckets, floor, percentile
from async_jobs.engine.views.waiting import Context, QueueFacts, why_waiting

NOW = datetime(2026, 11, 29, 12, 0, 0)
UP = Context(now=NOW, stager_running=True, scheduler_active=True)
WORKERS = QueueFacts(workers=2, busy=0, depth=0)


@pytest.mark.parametrize(
	"status, run_at, position, facts, context, expected",
	[
		("Scheduled", NOW + timedelta(seconds=30), None, WORKERS, UP, "Delayed until"),
		("Retrying", NOW + timedelta(seconds=30), None, WORKERS, UP, "Retrying after a failed attempt"),
		("Scheduled", NOW - timedelta(seconds=3), None, WORKERS, UP, "the stager moves it"),
		(
			"Scheduled",
			NOW - timedelta(seconds=3),
			None,
			WORKERS,
			Context(NOW, False, True),
			"within a minute",
		),
		(
			"Scheduled",
			NOW - timedelta(seconds=3),
			None,
			WORKERS,
			Context(NOW, False, False),
			"neither the stager",
		),
		("Queued", None, 0, QueueFacts(0, 0, 1), UP, "No worker listens on queue long"),
		("Queued", None, 7, WORKERS, UP, "Behind 7 job(s) on queue long"),
		("Queued", None, 0, QueueFacts(2, 2, 1), UP, "All 2 worker(s) of queue long are busy"),
		("Queued", None, 0, WORKERS, UP, "Next on queue long"),
	],
)
def test_each_reason_a_job_waits_is_explained(status, run_at, position, facts, context, expected):
	assert expected in why_waiting(status, run_at, position, "long", facts, context)


def test_percentiles_use_the_nearest_rank():
	values = list(range(1, 101))
	assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile([], 50) is None
	assert percentile([4.0], 95) == 4.0


def test_a_delayed_jobs_reason_gives_its_time_without_microseconds_and_what_is_left():
	run_at = NOW + timedelta(seconds=569, microseconds=886161)
	assert why_waiting("Scheduled", run_at, None, "long", WORKERS, UP) == (
		"Delayed until 2026-11-29 12:09:29 (in 9m 29s)"
	)


@pytest.mark.parametrize(
	"hours, bucket, count, first",
	[
		(1, "5min", 12, datetime(2026, 11, 29, 11, 10)),
		(24, "hour", 24, datetime(2026, 11, 28, 13, 0)),
		(168, "day", 7, datetime(2026, 11, 23, 0, 0)),
	],
)
def test_the_charts_buckets_end_with_the_current_one_and_cover_the_period(hours, bucket, count, first):
	"""An hour in 5-minute bars, a day in hours, a week in days; the period starts where its first bar does."""
	kind, step, n = buckets(hours)
	now = NOW + timedelta(minutes=7, seconds=3)
	assert (kind, n) == (bucket, count)
	assert floor(now, kind) - step * (n - 1) == first
