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
	HELD = "Held"  # waiting in the ledger, not in RQ: for a concurrency slot, or for its queue to drain (held_by)
	EXPIRED = "Expired"  # not started by its expires_at: it never runs late

	def __str__(self) -> str:
		return self.value


WAITING = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.RETRYING, JobStatus.HELD})
IN_TRANSPORT = WAITING - {JobStatus.HELD}  # waiting jobs that have an RQ job (queued or in the delayed set)
TERMINAL = frozenset(
	{
		JobStatus.FINISHED,
		JobStatus.FAILED,
		JobStatus.TIMED_OUT,
		JobStatus.DEAD,
		JobStatus.CANCELLED,
		JobStatus.LOST,
		JobStatus.EXPIRED,
	}
)
RETRYABLE_BY_HAND = TERMINAL - {JobStatus.FINISHED}
FAILED_ENDS = TERMINAL - {JobStatus.FINISHED, JobStatus.CANCELLED}  # ended without success, not by request
FAILED_END_VALUES = tuple(sorted(s.value for s in FAILED_ENDS))  # the same, as stored (for SQL and filters)
# Why a Held job waits (its `held_by`), and why a Scheduled one waits when a rate limit moved its start.
HELD_BY_LIMIT = "limit"  # no free slot of its concurrency limit
HELD_BY_QUEUE = "backpressure"  # its queue holds as many jobs as async_jobs may put there
HELD_BY_RATE = "rate"  # Scheduled: its start was moved to the rate limit's next free slot
HELD_BY_PARENTS = "after"  # Held: it waits until the jobs or batches it was enqueued after have ended
NOTIFY_MODES = ("On Failure", "Always", "Never")
MAX_DELAY = (
	366 * 24 * 3600
)  # seconds: the longest a job may wait to run (a delay, a snooze, a retry's backoff)
MAX_TIMEOUT = 7 * 24 * 3600  # seconds: the longest timeout a job may have

# verb → (states it may leave, state it enters)
TRANSITIONS: dict[str, tuple[frozenset[JobStatus], JobStatus]] = {
	# A delayed or retrying job is staged onto its queue in Redis alone; the ledger moves it when a worker starts it.
	"start": (WAITING, JobStatus.STARTED),
	# Flow control (engine/run/gate.py, engine/run/held.py): a job over its concurrency limit, or beyond its queue's
	# bound, waits in the ledger without an RQ job; released, it is pushed again. A rate limit moves its start.
	"hold": (IN_TRANSPORT, JobStatus.HELD),
	"release": (frozenset({JobStatus.HELD}), JobStatus.QUEUED),
	"defer": (IN_TRANSPORT, JobStatus.SCHEDULED),
	"expire": (WAITING, JobStatus.EXPIRED),
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
