"""Why a waiting job waits: each case of the explanation, and the percentile the charts use."""

from datetime import datetime, timedelta

import pytest

from async_jobs.engine.views.dashboard import percentile
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
