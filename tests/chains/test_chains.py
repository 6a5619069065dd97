"""Chains and dependencies on real workers: a job enqueued after others waits Held until every parent has ended,
then is released exactly once (also when two parents end at the same instant on two workers), or is cancelled
when a parent failed and its policy says so."""

import itertools

import frappe
import pytest

import async_jobs
from async_jobs.engine.views import dashboard
from tests.support import world
from tests.support.checks import row, todo_count, todo_owners, wait_for_status
from tests.support.harness import wait_for

F = "async_jobs.testing.jobs."
REPEATS = 20


def _marker(prefix: str) -> str:
	return f"aj-{prefix}-{frappe.generate_hash(length=8)}"


def _rows(names: list[str]) -> dict[str, frappe._dict]:
	frappe.db.rollback()
	return {
		r.name: r
		for r in frappe.get_all(
			"Async Job", filters={"name": ["in", names]}, fields=["*"], limit_page_length=0
		)
	}


def _wait_ended(names: list[str], timeout: float = 240) -> dict[str, frappe._dict]:
	ended = {"Finished", "Failed", "Dead", "Cancelled", "Timed Out", "Lost", "Expired"}

	def done():
		rows = _rows(names)
		return rows if all(r.status in ended for r in rows.values()) and len(rows) == len(names) else None

	return wait_for(done, timeout=timeout, interval=0.5, message=f"{len(names)} jobs to end")


@pytest.mark.worker
def test_five_step_chains_run_in_order_each_step_once_in_20_runs_on_two_workers(empty_queues, worker_factory):
	worker_factory()
	worker_factory()
	chains = []
	for _ in range(REPEATS):
		marker = _marker("chain")
		jobs = async_jobs.chain([(F + "record_step", {"marker": marker, "step": i}) for i in range(1, 6)])
		chains.append((marker, [j.name for j in jobs]))
		assert [j.status for j in jobs] == ["Queued", *["Held"] * 4] and jobs[1].held_by == "after"
	frappe.db.commit()
	rows = _wait_ended([n for _, names in chains for n in names])
	for marker, names in chains:
		steps = [rows[n] for n in names]
		assert [s.status for s in steps] == ["Finished"] * 5, [(s.name, s.status, s.error) for s in steps]
		assert [s.chain_step for s in steps] == [1, 2, 3, 4, 5] and len({s.chain for s in steps}) == 1
		assert all(s.attempts == 1 for s in steps)
		for before, after in itertools.pairwise(steps):
			assert after.started_at >= before.ended_at, (
				f"step {after.chain_step} started before its parent ended"
			)
			assert after.rq_job_id.endswith("::2"), f"step {after.chain_step} was pushed more than once"
		assert [todo_count(f"{marker}-{i}") for i in range(1, 6)] == [1] * 5
		assert [int(s) for s in frappe.cache.lrange(f"aj-steps:{marker}", 0, -1)] == [1, 2, 3, 4, 5]


@pytest.mark.worker
def test_a_fan_in_of_20_parents_releases_its_child_once_in_20_runs_even_when_parents_end_together(
	empty_queues, worker_factory
):
	"""The last two parents of each fan-in meet at a barrier on the two workers and end at the same instant:
	both look for the child after their own end, and it is pushed once."""
	worker_factory()
	worker_factory()
	runs = []
	for _ in range(REPEATS):
		marker = _marker("fanin")
		parents = [async_jobs.enqueue(F + "add", {"a": i, "b": 1}, queue="short").name for i in range(18)]
		parents += [
			async_jobs.enqueue(F + "meet_then_end", {"marker": marker, "patience": 5}, queue="short").name
			for _ in range(2)
		]
		child = async_jobs.enqueue(F + "record_marker", {"marker": marker}, queue="short", after=parents).name
		runs.append((marker, parents, child))
	frappe.db.commit()
	rows = _wait_ended([n for _, parents, child in runs for n in (*parents, child)])
	together = 0
	for marker, parents, child in runs:
		job = rows[child]
		assert job.status == "Finished", (job.status, job.error)
		assert job.attempts == 1 and job.rq_job_id.endswith("::2"), "the child was pushed more than once"
		assert todo_count(marker) == 1, "the child ran more than once"
		assert job.started_at >= max(rows[p].ended_at for p in parents)
		last_two = [rows[p] for p in parents[-2:]]
		together += abs((last_two[0].ended_at - last_two[1].ended_at).total_seconds()) < 0.05
	assert together >= REPEATS // 2, f"only {together} runs had their last parents end together"


@pytest.mark.worker
@pytest.mark.parametrize("policy", ["cancel", "run"])
def test_a_failing_step_cancels_the_rest_of_its_chain_under_cancel_and_not_under_run(
	empty_queues, worker, policy
):
	marker = _marker("chainfail")
	jobs = async_jobs.chain(
		[
			(F + "record_step", {"marker": marker, "step": 1}),
			(F + "record_marker_then_fail", {"marker": f"{marker}-2"}),
			(F + "record_step", {"marker": marker, "step": 3}),
			(F + "record_step", {"marker": marker, "step": 4}),
		],
		on_parent_failure=policy,
		queue="short",
	)
	frappe.db.commit()
	rows = _wait_ended([j.name for j in jobs], timeout=90)
	steps = [rows[j.name] for j in jobs]
	assert [s.status for s in steps[:2]] == ["Finished", "Failed"]
	if policy == "cancel":
		assert [s.status for s in steps[2:]] == ["Cancelled", "Cancelled"]
		assert jobs[1].name in steps[2].error and "Failed" in steps[2].error
		assert jobs[2].name in steps[3].error, "step 4 is cancelled because step 3 was"
		assert todo_count(f"{marker}-3") == 0 and todo_count(f"{marker}-4") == 0
		assert all(s.started_at is None for s in steps[2:])
	else:
		assert [s.status for s in steps[2:]] == ["Finished", "Finished"]
		assert todo_count(f"{marker}-3") == 1 and todo_count(f"{marker}-4") == 1


@pytest.mark.worker
def test_a_job_after_a_running_job_and_a_batch_waits_for_both_and_runs_as_its_owner(
	empty_queues, worker, stager
):
	"""The running parent's worker read its row before the child flagged it: the stager's look releases the
	child once that parent ends. The child waits for the batch too, and says so while it waits."""
	marker = _marker("after")
	frappe.set_user(world.OWNER)
	running = async_jobs.enqueue(F + "sleep_quietly", {"seconds": 4}, queue="short").name
	frappe.db.commit()
	wait_for_status(running, "Started")
	batch = async_jobs.enqueue_batch(F + "add", [{"a": 1, "b": 2}, {"a": 3, "b": 4}], queue="short").name
	child = async_jobs.enqueue(
		F + "record_marker", {"marker": marker}, queue="short", after=[running, batch]
	).name
	frappe.db.commit()
	frappe.set_user("Administrator")
	waiting = dashboard.overview({})["waiting"]
	why = next(r["why"] for r in waiting if r["name"] == child)
	assert "Waits for" in why and running in why, why
	job = wait_for_status(child, "Finished", timeout=60)
	assert job.started_at >= row(running).ended_at
	assert frappe.db.get_value("Async Job Batch", batch, "status") == "Finished"
	assert todo_owners(marker) == [world.OWNER], "the child ran as its owner"


@pytest.mark.worker
def test_a_job_enqueued_after_jobs_that_already_ended_runs_at_once(empty_queues, worker):
	done = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short").name
	frappe.db.commit()
	wait_for_status(done, "Finished")
	marker = _marker("ended")
	child = async_jobs.enqueue(F + "record_marker", {"marker": marker}, queue="short", after=done).name
	frappe.db.commit()
	wait_for_status(child, "Finished", timeout=30)
	assert todo_count(marker) == 1


def test_after_refuses_unknown_parents_other_users_jobs_and_bad_options():
	mine = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="short", after_commit=False)
	with pytest.raises(frappe.DoesNotExistError, match="no Async Job or Async Job Batch"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=["no-such-job"])
	with pytest.raises(frappe.ValidationError, match="on_parent_failure"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=[mine.name], on_parent_failure="sometimes")
	with pytest.raises(frappe.ValidationError, match="on_parent_failure needs after"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, on_parent_failure="run")
	with pytest.raises(frappe.ValidationError, match="no run_at or delay"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=[mine.name], delay=60)
	with pytest.raises(frappe.ValidationError, match="at most 1000"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=[f"job-{i}" for i in range(1001)])
	with pytest.raises(frappe.ValidationError, match="after must"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=[{"name": mine.name}])
	with pytest.raises(frappe.ValidationError, match="at least one step"):
		async_jobs.chain([])
	with pytest.raises(frappe.ValidationError, match="option of the whole chain"):
		async_jobs.chain([(F + "add", {"a": 1, "b": 2}, {"delay": 5})])
	frappe.set_user(world.OTHER)
	with pytest.raises(frappe.PermissionError, match="another user's"):
		async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, after=[mine.name])
	frappe.set_user("Administrator")
	frappe.db.rollback()
	async_jobs.cancel(mine.name)
	frappe.db.commit()


def test_a_job_after_one_just_enqueued_on_a_side_connection_finds_it_on_either_connection():
	"""The parent is committed after this transaction's snapshot began; the child goes on a side connection too,
	which flags the parent's row: nothing waits for a lock this process holds."""
	frappe.db.sql("SELECT 1 FROM `tabAsync Job` LIMIT 1")  # this transaction's snapshot begins here
	parent = async_jobs.enqueue(F + "add", {"a": 1, "b": 2}, queue="long", delay=600, after_commit=False)
	child = async_jobs.enqueue(
		F + "add", {"a": 3, "b": 4}, queue="long", after=[parent.name], after_commit=False
	)
	other = async_jobs.enqueue(F + "add", {"a": 5, "b": 6}, queue="long", after=[parent.name])
	frappe.db.commit()
	assert row(child.name).status == "Held" and row(other.name).status == "Held"
	assert row(parent.name).has_dependents == 1
	async_jobs.cancel(parent.name)
	frappe.db.commit()
	wait_for(
		lambda: row(child.name).status == row(other.name).status == "Cancelled",
		timeout=20,
		message="the children to be cancelled with their parent",
	)


def test_the_monitor_shows_a_chain_as_one_row_with_its_steps_in_order():
	# The first step delayed: the module's worker (still up) must not run it while the test looks.
	jobs = async_jobs.chain([(F + "add", {"a": i, "b": 1}) for i in range(3)], queue="long", delay=600)
	frappe.db.commit()
	chains = dashboard.overview({})["chains"]
	shown = next(c for c in chains if c["first"] == jobs[0].name)
	assert [s["name"] for s in shown["steps"]] == [j.name for j in jobs]
	assert [s["status"] for s in shown["steps"]] == ["Scheduled", "Held", "Held"]
	assert shown["status"] == "Waiting" and shown["ended"] == 0
	async_jobs.cancel(jobs[0].name)
	frappe.db.commit()
	wait_for(
		lambda: row(jobs[2].name).status == "Cancelled", timeout=20, message="the cancel to reach step 3"
	)
	shown = next(c for c in dashboard.overview({})["chains"] if c["first"] == jobs[0].name)
	assert shown["status"] == "Cancelled" and shown["ended"] == 3
