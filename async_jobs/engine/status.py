"""Job states and the transitions between them; lifecycle.py is the only code that writes them."""

from enum import Enum


class JobStatus(str, Enum):
	SCHEDULED = "Scheduled"  # waiting for its run-at time before it enters a queue
	QUEUED = "Queued"
	STARTED = "Started"
	FINISHED = "Finished"
	FAILED = "Failed"
	TIMED_OUT = "Timed Out"
	CANCELLED = "Cancelled"

	def __str__(self) -> str:
		return self.value


TERMINAL = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.CANCELLED})

# verb → (states it may leave, state it enters)
TRANSITIONS: dict[str, tuple[frozenset[JobStatus], JobStatus]] = {
	# A delayed job is staged onto its queue in Redis alone; the ledger moves it when a worker starts it.
	"start": (frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED}), JobStatus.STARTED),
	"complete": (frozenset({JobStatus.STARTED}), JobStatus.FINISHED),
	"fail": (frozenset({JobStatus.STARTED}), JobStatus.FAILED),
	"time_out": (frozenset({JobStatus.STARTED}), JobStatus.TIMED_OUT),
	"cancel": (frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED}), JobStatus.CANCELLED),
}


def allowed_verbs(status: JobStatus) -> list[str]:
	return [verb for verb, (sources, _) in TRANSITIONS.items() if status in sources]
