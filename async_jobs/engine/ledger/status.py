"""Job states and the transitions between them (lifecycle.py is the only code that writes them), when a job's
end notifies its owner (the `notify` field), and the longest a job may wait or run."""

from enum import Enum


class JobStatus(str, Enum):
	SCHEDULED = "Scheduled"  # waiting for its run-at time (a delay, or a snooze) before it enters a queue
	QUEUED = "Queued"
	STARTED = "Started"
	RETRYING = "Retrying"  # an attempt failed; waiting for the backoff before the next one
	FINISHED = "Finished"
	FAILED = "Failed"  # failed with an error that is not retried (or no retries were asked for)
	TIMED_OUT = "Timed Out"
	DEAD = "Dead"  # every allowed attempt failed
	CANCELLED = "Cancelled"
	LOST = "Lost"  # its RQ job vanished (Redis lost) and it could not be enqueued again

	def __str__(self) -> str:
		return self.value


WAITING = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.RETRYING})
TERMINAL = frozenset(
	{
		JobStatus.FINISHED,
		JobStatus.FAILED,
		JobStatus.TIMED_OUT,
		JobStatus.DEAD,
		JobStatus.CANCELLED,
		JobStatus.LOST,
	}
)
RETRYABLE_BY_HAND = TERMINAL - {JobStatus.FINISHED}
FAILED_ENDS = TERMINAL - {JobStatus.FINISHED, JobStatus.CANCELLED}  # ended without success, not by request
NOTIFY_MODES = ("On Failure", "Always", "Never")
MAX_DELAY = (
	366 * 24 * 3600
)  # seconds: the longest a job may wait to run (a delay, a snooze, a retry's backoff)
MAX_TIMEOUT = 7 * 24 * 3600  # seconds: the longest timeout a job may have

# verb → (states it may leave, state it enters)
TRANSITIONS: dict[str, tuple[frozenset[JobStatus], JobStatus]] = {
	# A delayed or retrying job is staged onto its queue in Redis alone; the ledger moves it when a worker starts it.
	"start": (WAITING, JobStatus.STARTED),
	"complete": (frozenset({JobStatus.STARTED}), JobStatus.FINISHED),
	"fail": (frozenset({JobStatus.STARTED}), JobStatus.FAILED),
	"time_out": (frozenset({JobStatus.STARTED}), JobStatus.TIMED_OUT),
	"retry_later": (frozenset({JobStatus.STARTED}), JobStatus.RETRYING),
	"snooze": (frozenset({JobStatus.STARTED}), JobStatus.SCHEDULED),
	"discard": (frozenset({JobStatus.STARTED}), JobStatus.DEAD),
	"cancel": (WAITING | {JobStatus.STARTED}, JobStatus.CANCELLED),
	"requeue": (RETRYABLE_BY_HAND, JobStatus.QUEUED),
	"lose": (WAITING, JobStatus.LOST),
}


def allowed_verbs(status: JobStatus) -> list[str]:
	return [verb for verb, (sources, _) in TRANSITIONS.items() if status in sources]
