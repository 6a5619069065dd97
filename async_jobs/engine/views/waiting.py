"""Why is a waiting job not running? One pure function over facts gathered by the dashboard."""

from dataclasses import dataclass
from datetime import datetime

from frappe import _
from frappe.utils import format_duration


@dataclass(frozen=True)
class QueueFacts:
	workers: int  # workers of this bench listening on the queue
	busy: int  # of those, how many are running a job
	depth: int  # RQ jobs waiting in the queue (all sites of the bench)


@dataclass(frozen=True)
class FlowFacts:
	"""What flow control says about one waiting job (engine/run/gate.py)."""

	held_by: str | None = None  # Held: "limit" or "backpressure"; Scheduled: "rate"
	key: str = ""  # its concurrency key (or the job type's name when it has none)
	running: int = 0  # slots of its limit taken now
	limit: int = 0
	rate: str | None = None  # its rate limit, e.g. 5/1s
	rate_key: str = ""
	paused_since: datetime | None = None  # its queue is paused
	paused_by: str | None = None
	parents_pending: tuple[str, ...] = ()  # Held "after": the jobs or batches it still waits for
	parents_total: int = 0


@dataclass(frozen=True)
class Context:
	now: datetime
	stager_running: bool
	scheduler_active: bool


def why_waiting(
	status: str,
	run_at: datetime | None,
	position: int | None,
	queue: str,
	facts: QueueFacts,
	context: Context,
	flow: FlowFacts | None = None,
) -> str:
	"""A sentence for the site manager. `position` = jobs ahead of this one in its RQ queue (None if not in it)."""
	flow = flow or FlowFacts()
	if status == "Held" and flow.held_by == "after":
		shown = ", ".join(flow.parents_pending[:5]) + (" …" if len(flow.parents_pending) > 5 else "")
		if not flow.parents_pending:
			return _("Its parents have ended: it is released within a second")
		return _("Waits for {0} of the {1} jobs it was enqueued after to end: {2}").format(
			len(flow.parents_pending), flow.parents_total, shown
		)
	if status == "Held" and flow.held_by == "limit":
		return _("Held by limit {0} ({1} of {2} running)").format(flow.key, flow.running, flow.limit)
	if status == "Held":
		return _(
			"Held back: queue {0} holds as many jobs as async_jobs may put there; it is fed as it drains"
		).format(queue)
	if status == "Scheduled" and flow.held_by == "rate" and run_at and run_at > context.now:
		seconds = int((run_at - context.now).total_seconds())
		key = f" {flow.rate_key}" if flow.rate_key else ""
		return _("Spread by rate limit {0}{1}: starts in {2} s (at {3})").format(
			flow.rate, key, seconds, run_at
		)
	if flow.paused_since and status in ("Queued", "Scheduled", "Retrying"):
		return _(
			"Queue {0} is paused (by {1} since {2}): none of its jobs starts until it is resumed"
		).format(queue, flow.paused_by or "?", flow.paused_since)
	if status in ("Scheduled", "Retrying") and run_at and run_at > context.now:
		until = run_at.replace(microsecond=0)
		left = format_duration(int((run_at - context.now).total_seconds()))
		if status == "Retrying":
			return _("Retrying after a failed attempt at {0} (in {1})").format(until, left)
		return _("Delayed until {0} (in {1})").format(until, left)
	if status in ("Scheduled", "Retrying") and position is None:
		if not context.stager_running and not context.scheduler_active:
			return _("Due, but neither the stager process nor the scheduler runs to move it onto its queue")
		if not context.stager_running:
			return _("Due; without a stager process the scheduler moves it onto its queue within a minute")
		return _("Due; the stager moves it onto its queue within a second")
	if facts.workers == 0:
		return _("No worker listens on queue {0}: start one (bench worker --queue {0})").format(queue)
	if position:
		return _("Behind {0} job(s) on queue {1}").format(position, queue)
	if facts.busy >= facts.workers:
		return _("All {0} worker(s) of queue {1} are busy").format(facts.workers, queue)
	return _("Next on queue {0}: a worker will take it now").format(queue)
