"""Job-type declarations: a bad one (no name, a bad method, retry, roles or timeout, not a dict) is skipped and
logged; the good ones still work and the Desk still boots for every user (real HTTP)."""

import frappe
import pytest
from frappe.installer import update_site_config

from async_jobs.engine.submit.registry import job_types
from tests.support import world
from tests.support.harness import BASE_URL

BAD = [
	{"method": "async_jobs.testing.jobs.add"},  # no name
	{"name": "aj-bad-method", "method": "add"},  # not a dotted path
	{"name": "aj-bad-retry", "method": "async_jobs.testing.jobs.add", "retry": {"retry_on": "X"}},
	{"name": "aj-bad-roles", "method": "async_jobs.testing.jobs.add", "roles": "X"},
	{"name": "aj-bad-timeout", "method": "async_jobs.testing.jobs.add", "timeout": 10**9},
	"aj-not-a-dict",
]


@pytest.fixture
def bad_declarations():
	declared = [*BAD, *world.JOB_TYPES]
	update_site_config("async_jobs_job_types", declared)
	frappe.local.conf.async_jobs_job_types = declared
	yield
	update_site_config("async_jobs_job_types", world.JOB_TYPES)
	frappe.local.conf.async_jobs_job_types = world.JOB_TYPES


def test_bad_declarations_are_skipped_and_the_good_ones_and_the_desk_still_work(bad_declarations, clients):
	assert set(job_types()) == {t["name"] for t in world.JOB_TYPES}

	desk = clients[world.OWNER].get(f"{BASE_URL}/app", timeout=60)
	startable = clients[world.OWNER].get(
		f"{BASE_URL}/api/method/async_jobs.api.startable_job_types", timeout=30
	)
	assert desk.status_code == 200 and "frappe.boot" in desk.text, desk.text[:300]
	assert startable.status_code == 200 and "aj-test-add" in {t["name"] for t in startable.json()["message"]}
