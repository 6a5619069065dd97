"""Backpressure: a batch of 2,000 children on a site with max_queued_jobs = 500 never puts more than its bound
(80 %: 400) into the RQ queue — the rest waits Held in the ledger and the stager feeds it as workers drain the
queue — so a plain frappe.enqueue meanwhile still finds room; every child finishes."""

import frappe
import pytest
from frappe.installer import update_site_config
from frappe.utils.background_jobs import enqueue as frappe_enqueue
from frappe.utils.background_jobs import generate_qname, get_redis_conn

import async_jobs
from async_jobs.engine.submit import backpressure
from tests.support.harness import start_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

F = "async_jobs.testing.jobs."


@pytest.fixture
def max_queued_500():
	update_site_config("max_queued_jobs", 500)
	frappe.local.conf.max_queued_jobs = 500
	yield
	update_site_config("max_queued_jobs", "None")
	frappe.local.conf.pop("max_queued_jobs", None)


def test_a_batch_of_2000_never_fills_the_queue_past_its_bound_and_all_finish(
	max_queued_500, stager, empty_queues
):
	conn, key = get_redis_conn(), f"rq:queue:{generate_qname('long')}"
	assert backpressure.bound() == 400
	batch = async_jobs.enqueue_batch(F + "add", ({"a": i, "b": 1} for i in range(2000)), queue="long")
	frappe.db.commit()
	assert conn.llen(key) == 400
	assert (
		frappe.db.count("Async Job", {"batch": batch.name, "status": "Held", "held_by": "backpressure"})
		== 1600
	)
	plain = frappe_enqueue(F + "add", queue="long", a=1, b=2)  # Frappe's own check: the queue holds < 500
	assert plain and conn.llen(key) == 401 < 500

	workers = [start_worker("long", kind="fast") for _ in range(2)]
	try:
		deepest = [conn.llen(key)]

		def all_done():
			deepest.append(conn.llen(key))
			frappe.db.rollback()
			return frappe.db.get_value("Async Job Batch", batch.name, "status") == "Finished"

		wait_for(all_done, timeout=600, interval=0.05, message="the batch to finish")
	finally:
		for worker in workers:
			worker.stop()
	assert max(deepest) <= 401, f"the queue held {max(deepest)} jobs"
	assert frappe.db.count("Async Job", {"batch": batch.name, "status": "Finished"}) == 2000
	assert not conn.hexists(backpressure.BACKLOG_KEY, backpressure.member(frappe.local.site, "long"))
	print(f"\n2,000 children through a bound of 400: the queue never held more than {max(deepest)}")
