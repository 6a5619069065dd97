"""The chaos suite at CI scale: 500 jobs through kills, a Redis flush, a MariaDB restart and worker restarts."""

import pytest

from tests.support.chaos import Chaos

pytestmark = [pytest.mark.worker, pytest.mark.chaos]


def test_no_job_is_lost_or_applied_twice_without_a_retry_through_chaos(stager):
	report = Chaos(jobs=500, workers=2, seed=1).run(stager=stager, timeout=600)
	print("\n" + report.table())
	assert report.problems == []
	assert sum(report.statuses.values()) == 500
	assert any("kill -9 worker" in e for e in report.events) and any("FLUSHALL" in e for e in report.events)
