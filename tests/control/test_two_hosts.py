"""Two hosts against one Redis and one MariaDB: workers and a stager on each, in namespaces of their own (own
hostname, process ids that repeat across the hosts). Jobs spread over both; when one host dies at once (every
process SIGKILLed) the other host's lifeline recovers its jobs; nothing runs twice without a retry; and neither
the queue health, the worker list nor the lifeline takes one host's workers for the other's."""

import uuid
from collections import Counter

import frappe
import pytest
from frappe.utils.background_jobs import get_redis_conn
from rq import Worker

import async_jobs
from async_jobs.engine.health import alerts, queues, watchdog
from async_jobs.engine.views import dashboard
from tests.support.alerting import forget_alerts
from tests.support.checks import row, wait_for_status
from tests.support.harness import SITE, run_bench, wait_for
from tests.support.hosts import worker_host

pytestmark = [pytest.mark.worker, pytest.mark.slow]
EFFECTS = """CREATE TABLE IF NOT EXISTS aj_host_effect (id BIGINT AUTO_INCREMENT PRIMARY KEY,
	run VARCHAR(40) NOT NULL, job_index INT NOT NULL, host VARCHAR(80), KEY run_index (run, job_index))"""
RETRY = {"max_attempts": 3, "base": 1, "factor": 2, "jitter": 0}
SLEEP = 15  # seconds a long job of the second wave runs: the kill comes while all four run


@pytest.fixture
def hosts(request, empty_queues):
	frappe.db.sql(EFFECTS)
	started = []

	def start(label: str, queue_names: str, stager: bool = True):
		started.append(worker_host(label, request.param, queue_names, stager=stager))
		return started[-1]

	yield start
	for host in started:
		host.stop()
	forget_alerts()


def enqueue(run: str, index: int, queue: str, seconds: float = 0.0) -> str:
	kwargs = {"run": run, "index": index, "seconds": seconds}
	return async_jobs.enqueue("async_jobs.testing.jobs.on_host", kwargs, queue=queue, retry=RETRY).name


def finished(names: list[str]) -> list[frappe._dict]:
	return [wait_for_status(name, "Finished", timeout=120) for name in names]


def open_alert_keys() -> set[str]:
	"""Run the watchdog (again if a stager's pass held its lock) and return the keys of the open alerts."""
	wait_for(lambda: "skipped" not in watchdog.check(notify=False), message="a watchdog pass of our own")
	return {a.alert_key for a in alerts.open_alerts()}


@pytest.mark.parametrize("hosts", ["bench", "fast"], indirect=True)
def test_two_hosts_share_the_work_and_one_recovers_the_jobs_of_the_other_when_it_dies(hosts):
	run = uuid.uuid4().hex[:12]
	a = hosts("a", "short,default")
	b = hosts("b", "short,default,long")  # the only host serving `long`
	names_a, names_b = {w.name for w in a.workers()}, {w.name for w in b.workers()}
	pids_a, pids_b = {w.pid for w in a.workers()}, {w.pid for w in b.workers()}
	assert pids_a & pids_b, "the two hosts' workers should have process ids in common"

	# 1. The work spreads over both hosts.
	quick = [enqueue(run, i, "short", 0.3) for i in range(30)]
	frappe.db.commit()
	ran_on = Counter(job.worker in names_b for job in finished(quick))
	assert ran_on[True] and ran_on[False], f"all jobs ran on one host: {ran_on}"
	assert {q.name: q.workers for q in queues.gather_queues()} == {"default": 4, "long": 2, "short": 4}

	# 2. Four long jobs hold all four workers; more wait on `long` (B only) and on `short`.
	held = [enqueue(run, 100 + i, "default", SLEEP) for i in range(4)]
	frappe.db.commit()
	wait_for(lambda: all(row(n).status == "Started" for n in held), timeout=60, message="four running jobs")
	on_b = [n for n in held if row(n).worker in names_b]
	on_a = [n for n in held if row(n).worker in names_a]
	assert len(on_a) == len(on_b) == 2
	waiting_long = [enqueue(run, 200 + i, "long") for i in range(3)]
	waiting_short = [enqueue(run, 300 + i, "short") for i in range(6)]
	frappe.db.commit()

	# 3. Host B dies at once. RQ still lists its workers (their keys outlive them by minutes); nothing else does.
	b.kill()
	assert {w.name for w in Worker.all(connection=get_redis_conn())} >= names_b
	wait_for(lambda: not b.workers(), timeout=10, message="host B's workers to be seen gone")
	shown = {r.name: r.worker_where for r in dashboard.where_running([row(n) for n in held])}
	assert all(shown[n].startswith(f"{a.hostname}:") and "gone" not in shown[n] for n in on_a), shown
	assert all(shown[n].startswith(f"{b.hostname}:") and shown[n].endswith(", gone") for n in on_b), shown
	assert {q.name: q.workers for q in queues.gather_queues()} == {"default": 2, "long": 0, "short": 2}
	facts = dashboard.queue_facts()
	assert (facts["long"].workers, facts["short"].workers, facts["short"].busy) == (0, 2, 2)
	keys = open_alert_keys()
	assert "no-worker:long" in keys and not keys & {"no-worker:short", "no-worker:default"}, keys
	status = run_bench("--site", SITE, "async-jobs", "status").stdout
	workers_part, gone_part = status.split("Gone:")
	for w in a.workers():
		assert f"{w.name:<34} {a.hostname} pid {w.pid}" in workers_part
	for name in names_b:
		assert name in gone_part and name not in workers_part

	# 4. A's lifeline (the only one left) recovers B's two jobs; A's own run on, untouched.
	for job in finished(on_b):
		log = frappe.parse_json(job.attempt_log)
		assert job.attempts == 2 and log[0]["worker"] in names_b and "no heartbeat" in log[0]["error"]
		assert b.hostname in log[0]["error"] and log[1]["worker"] in names_a
	for job in finished(on_a + waiting_short):
		assert job.attempts == 1 and job.worker in names_a and not job.error

	# 5. A host that serves `long` again runs its waiting jobs, and the alert clears.
	c = hosts("c", "long", stager=False)
	for job in finished(waiting_long):
		assert job.attempts == 1 and job.worker in {w.name for w in c.workers()}
	assert "no-worker:long" not in open_alert_keys()

	# Nothing ran twice without a retry: one committed side effect per job, on the host its last attempt ran on.
	effects = frappe.db.sql("SELECT job_index, host FROM aj_host_effect WHERE run = %s", run)
	counts = Counter(index for index, _ in effects)
	assert sorted(counts) == sorted([*range(30), *range(100, 104), *range(200, 203), *range(300, 306)])
	assert set(counts.values()) == {1}
	assert {host for _, host in effects} == {a.hostname, b.hostname, c.hostname}
