"""The status enum, the transition table and the DocType agree; redaction hides every secret-looking key."""

import frappe
from hypothesis import given
from hypothesis import strategies as st

from async_jobs.engine.ledger.redact import REDACTED, is_secret_key, redact
from async_jobs.engine.ledger.status import TERMINAL, TRANSITIONS, JobStatus, allowed_verbs


def test_the_doctype_status_options_equal_the_enum():
	options = frappe.get_meta("Async Job").get_field("status").options.split("\n")
	assert options == [s.value for s in JobStatus]


def test_terminal_states_leave_only_by_a_retry_by_hand_finished_never_and_others_have_a_way_on():
	for status in JobStatus:
		if status == JobStatus.FINISHED:
			assert allowed_verbs(status) == []
		elif status in TERMINAL:
			assert allowed_verbs(status) == ["requeue"], status
		else:
			assert "cancel" in allowed_verbs(status), status


def test_every_state_is_reachable_from_queued_or_scheduled():
	reachable = {JobStatus.QUEUED, JobStatus.SCHEDULED}
	for _ in range(len(JobStatus)):
		reachable |= {target for sources, target in TRANSITIONS.values() if sources & reachable}
	assert reachable == set(JobStatus)


def test_redaction_hides_secrets_at_any_depth_and_keeps_the_rest():
	args = {"password": "p", "user": "u", "nested": [{"api_key": "k", "n": 1}], "Auth_Token": "t"}
	assert redact(args) == {
		"password": REDACTED,
		"user": "u",
		"nested": [{"api_key": REDACTED, "n": 1}],
		"Auth_Token": REDACTED,
	}


json_values = st.recursive(
	st.none() | st.booleans() | st.integers() | st.text(max_size=5),
	lambda children: (
		st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
	),
	max_leaves=12,
)


def _leaks(original, redacted) -> bool:
	if isinstance(original, dict):
		return any(
			redacted[k] != REDACTED if is_secret_key(k) else _leaks(v, redacted[k])
			for k, v in original.items()
		)
	if isinstance(original, list):
		return any(_leaks(a, b) for a, b in zip(original, redacted, strict=True))
	return False


@given(json_values)
def test_redaction_never_leaks_a_value_under_a_secret_key(value):
	assert not _leaks(value, redact(value))
