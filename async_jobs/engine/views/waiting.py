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
) -> str:
	"""A sentence for the site manager. `position` = jobs ahead of this one in its RQ queue (None if not in it)."""
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
