"""The chaos suite: many tracked jobs on real workers while work horses and a whole worker are killed, the queue
Redis is flushed, MariaDB restarts and the workers are replaced. Afterwards every ledger row must be terminal and
agree with what happened; no job may be lost; no side effect may be applied twice unless its job was retried.

	cd <bench>/apps/async_jobs && ../../env/bin/python -m tests.support.chaos --jobs 10000   (the test runs 500)

The workers are `bench worker` or, with ASYNC_JOBS_TEST_WORKER=fast (or --worker fast), the fast worker. A "work
horse" is a worker's child process either way: under `bench worker` the horse forked for one job, under the fast
worker the long-lived child that performs job after job (killing it fails the job it runs, if any, and the
supervisor starts a new child).
"""

import argparse
import contextlib
import random
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import frappe
import psutil
import redis

import async_jobs
from async_jobs.engine.ledger.status import TERMINAL
from tests.support import harness

EFFECTS_TABLE = """CREATE TABLE IF NOT EXISTS aj_chaos_effect (
	id BIGINT AUTO_INCREMENT PRIMARY KEY, run VARCHAR(40) NOT NULL, job_index INT NOT NULL, pid INT,
	KEY run_index (run, job_index)) ENGINE=InnoDB"""
CHAOS_METHOD = "async_jobs.testing.jobs.chaos_job"
RETRY = {"max_attempts": 6, "base": 0.5, "factor": 2, "max_delay": 8, "jitter": 0.2}


@dataclass
class Report:
	jobs: int
	events: list[str] = field(default_factory=list)
	statuses: Counter = field(default_factory=Counter)
	seconds: float = 0.0
	retried: int = 0
	recovered: int = 0
	finished_without_effect: list[str] = field(default_factory=list)
	duplicate_effects_without_retry: list[str] = field(default_factory=list)
	effects_of_unfinished: list[str] = field(default_factory=list)
	not_terminal: list[str] = field(default_factory=list)
	missing_rows: int = 0

	@property
	def problems(self) -> list[str]:
		found = []
		for label, items in (
			("rows not terminal", self.not_terminal),
			("finished without their side effect", self.finished_without_effect),
			("side effects applied twice without a retry", self.duplicate_effects_without_retry),
			("side effects of jobs that never finished and were not retried", self.effects_of_unfinished),
		):
			if items:
				found.append(f"{len(items)} {label}: {items[:5]}")
		if self.missing_rows:
			found.append(f"{self.missing_rows} jobs have no ledger row")
		if self.statuses.get("Lost"):
			found.append(f"{self.statuses['Lost']} jobs lost")
		return found

	def table(self) -> str:
		lines = [
			f"chaos suite: {self.jobs} jobs in {self.seconds:.1f} s ({self.jobs / max(self.seconds, 0.001):.1f} jobs/s)",
			*[f"  event  {event}" for event in self.events],
			f"  {'status':<12}{'jobs':>8}",
			*[f"  {status:<12}{count:>8}" for status, count in sorted(self.statuses.items())],
			f"  {'retried':<12}{self.retried:>8}   (jobs that needed more than one attempt)",
			f"  {'recovered':<12}{self.recovered:>8}   (enqueued again after Redis lost them)",
			f"  problems: {'; '.join(self.problems) or 'none'}",
		]
		return "\n".join(lines)


def _children(pid: int) -> list[psutil.Process]:
	try:
		return psutil.Process(pid).children()
	except psutil.NoSuchProcess:
		return []


class Chaos:
	def __init__(self, jobs: int, workers: int = 2, seed: int | None = None, restart_db: bool = True):
		self.jobs, self.worker_count, self.restart_db = jobs, workers, restart_db
		self.rng = random.Random(seed)
		self.run_id = uuid.uuid4().hex[:12]
		self.workers: list[harness.Process] = []
		self.report = Report(jobs)

	# the disruptions --------------------------------------------------------------------------------------
	def kill_a_work_horse(self) -> None:
		horses = [c for w in self.workers if w.alive() for c in _children(w.pid)]
		if horses:
			victim = self.rng.choice(horses)
			try:
				victim.kill()
			except psutil.NoSuchProcess:  # it ended its job between the listing and the kill
				return
			self.event(f"kill -9 work horse {victim.pid}")

	def kill_a_worker(self) -> None:
		victim = self.rng.choice([w for w in self.workers if w.alive()])
		horses = _children(victim.pid)
		victim.signal(9)
		for horse in horses:
			with contextlib.suppress(psutil.NoSuchProcess):
				horse.kill()
		self.workers.remove(victim)
		self.event(f"kill -9 worker {victim.pid} with {len(horses)} work horse(s); a new worker replaces it")
		self.workers.append(harness.start_worker())

	def flush_queue_redis(self) -> None:
		redis.Redis.from_url(harness.COMMON_CONFIG["redis_queue"]).flushall()
		self.event("FLUSHALL on the queue Redis")
		self.workers = [w for w in self.workers if w.alive()]
		for w in self.workers:  # their registrations vanished with the flush: restart them cleanly
			w.stop()
		self.workers = [harness.start_worker() for _ in range(self.worker_count)]

	def restart_mariadb(self) -> None:
		if not self.restart_db:
			self.event("MariaDB restart skipped (asked not to)")
			return
		if not any(
			"mariadbd" in " ".join(p.info["cmdline"] or [])
			and "while true" in " ".join(p.info["cmdline"] or [])
			for p in psutil.process_iter(["cmdline"])
		):
			self.event("MariaDB restart skipped: no supervisor would start it again on this machine")
			return
		password = harness.COMMON_CONFIG["root_password"]
		subprocess.run(
			["mariadb-admin", "--protocol=tcp", "-h", "127.0.0.1", "-uroot", f"-p{password}", "shutdown"],
			check=True,
			capture_output=True,
			timeout=60,
		)
		self.event("MariaDB shut down (its supervisor starts it again)")
		harness.wait_for(self._db_back, timeout=120, interval=0.5, message="MariaDB to come back")

	def restart_workers(self) -> None:
		for w in self.workers:
			w.stop()
		self.workers = [harness.start_worker() for _ in range(self.worker_count)]
		self.event(f"all workers stopped and {self.worker_count} new ones started")

	def event(self, text: str) -> None:
		self.report.events.append(f"{time.monotonic() - self.t0:6.1f} s  {text}")

	@staticmethod
	def _db_back() -> bool:
		try:
			frappe.db.close()
		except Exception:
			pass
		try:
			frappe.connect(set_admin_as_user=False)
			frappe.db.sql("SELECT 1")
			return True
		except Exception:
			return False

	# the run ------------------------------------------------------------------------------------------------
	def enqueue_all(self) -> list[str]:
		frappe.db.sql(EFFECTS_TABLE)
		self.since = frappe.utils.now_datetime()
		names = []
		for i in range(self.jobs):
			names.append(
				async_jobs.enqueue(
					CHAOS_METHOD,
					{"run": self.run_id, "index": i, "duration": self.rng.uniform(0, 0.3)},
					queue=self.rng.choice(["short", "default"]),
					retry=RETRY,
				).name
			)
			if i % 200 == 199:
				frappe.db.commit()
		frappe.db.commit()
		return names

	def unfinished(self) -> int:
		try:
			frappe.db.rollback()
			rows = frappe.db.sql(
				"SELECT COUNT(*) FROM `tabAsync Job` WHERE creation >= %s AND method = %s AND status NOT IN %s",
				(self.since, CHAOS_METHOD, [s.value for s in TERMINAL]),
			)
			return rows[0][0]
		except Exception:
			self._db_back()
			return -1

	def run(self, stager: harness.Process | None = None, timeout: float = 900) -> Report:
		own_stager = stager is None
		if own_stager:
			stager = harness.Process(
				"stager",
				harness.frappe_cli("async-jobs", "stager", "--interval", "0.5", "--lifeline-interval", "1"),
			)
		self.t0 = time.monotonic()
		try:
			names = self.enqueue_all()
			self.event(f"{self.jobs} jobs enqueued")
			self.workers = [harness.start_worker() for _ in range(self.worker_count)]
			plan = [
				(0.10, self.kill_a_work_horse),
				(0.20, self.kill_a_work_horse),
				(0.30, self.kill_a_worker),
				(0.40, self.kill_a_work_horse),
				(0.50, self.flush_queue_redis),
				(0.65, self.restart_mariadb),
				(0.80, self.restart_workers),
			]
			deadline = time.monotonic() + timeout
			while time.monotonic() < deadline:
				left = self.unfinished()
				if left == 0:
					break
				done = 1 - max(left, 0) / self.jobs
				while plan and done >= plan[0][0] and left > 0:
					plan.pop(0)[1]()
				time.sleep(0.5)
			for _, skipped in plan:
				self.event(f"{skipped.__name__} not reached: the jobs were done first")
			self.report.seconds = time.monotonic() - self.t0
			return self.verify(names)
		finally:
			for w in self.workers:
				w.stop()
			if own_stager:
				stager.stop()

	def verify(self, names: list[str]) -> Report:
		frappe.db.rollback()
		rows = frappe.db.sql(
			"SELECT name, status, attempts, recovered, arguments FROM `tabAsync Job` WHERE name IN %s",
			(names,),
			as_dict=True,
		)
		effects = Counter(
			r[0] for r in frappe.db.sql("SELECT job_index FROM aj_chaos_effect WHERE run = %s", self.run_id)
		)
		report = self.report
		report.missing_rows = len(names) - len(rows)
		for r in rows:
			index = frappe.parse_json(r.arguments)["index"]
			report.statuses[r.status] += 1
			report.retried += r.attempts > 1
			report.recovered += bool(r.recovered)
			if r.status not in {s.value for s in TERMINAL}:
				report.not_terminal.append(r.name)
			elif r.status == "Finished" and not effects[index]:
				report.finished_without_effect.append(r.name)
			elif effects[index] > 1 and r.attempts <= 1:
				report.duplicate_effects_without_retry.append(r.name)
			elif r.status != "Finished" and effects[index] and r.attempts <= 1:
				report.effects_of_unfinished.append(r.name)
		return report


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--jobs", type=int, default=500)
	parser.add_argument("--workers", type=int, default=2)
	parser.add_argument("--seed", type=int)
	parser.add_argument("--no-db-restart", action="store_true")
	parser.add_argument(
		"--worker", choices=["bench", "fast"], help="the kind of worker (default: as the tests)"
	)
	args = parser.parse_args()
	if args.worker:
		harness.WORKER_KIND = args.worker
	frappe.init(site=harness.SITE, sites_path=str(harness.SITES))
	frappe.connect()
	report = Chaos(args.jobs, args.workers, args.seed, not args.no_db_restart).run(
		timeout=max(900, args.jobs * 0.5)
	)
	print(report.table())
	raise SystemExit(1 if report.problems else 0)


if __name__ == "__main__":
	main()
