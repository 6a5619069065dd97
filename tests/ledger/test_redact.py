"""Redaction: secret keys (also pwd, key, access_key, otp, pin, sid, cookie, signature, jwt) at any depth, and
secrets inside string values (user:pass@ URLs, token=… pairs, bearer tokens, JSON held in a string)."""

import json

from hypothesis import given
from hypothesis import strategies as st

from async_jobs.engine.ledger.redact import REDACTED, redact, redact_text

NEW_KEYS = [
	"pwd",
	"key",
	"access_key",
	"accessKey",
	"otp",
	"pin",
	"user_pin",
	"sid",
	"cookie",
	"signature",
	"jwt",
]


def test_the_new_secret_keys_are_redacted_and_words_that_only_contain_them_are_not():
	redacted = redact(
		{**{k: "s" for k in NEW_KEYS}, "shipping": "a", "side": "b", "monkey": "c", "pinned": "d"}
	)
	assert all(redacted[k] == REDACTED for k in NEW_KEYS)
	assert (redacted["shipping"], redacted["side"], redacted["monkey"], redacted["pinned"]) == tuple("abcd")


def test_secrets_inside_string_values_are_redacted():
	redacted = redact(
		{
			"url": "https://bob:hunter2@example.com/x",
			"query": "https://h/x?token=abc123&page=2",
			"header": "Bearer abcdefghijkl",
			"json": json.dumps({"password": "pw", "rows": [{"otp": 5, "n": 1}]}),
			"note": "login failed: password=hunter2, user=bob",
		}
	)
	assert redacted["url"] == f"https://bob:{REDACTED}@example.com/x"
	assert redacted["query"] == f"https://h/x?token={REDACTED}&page=2"
	assert redacted["header"] == f"Bearer {REDACTED}"
	assert json.loads(redacted["json"]) == {"password": REDACTED, "rows": [{"n": 1, "otp": REDACTED}]}
	assert redacted["note"] == f"login failed: password={REDACTED}, user=bob"


def test_a_traceback_keeps_its_code_and_loses_its_secrets():
	text = "Traceback …\n  raise E(url)\nConnectionError: https://u:pw-1@h with token=t-2, {'api_key': 'k-3'}"
	assert redact_text(text) == (
		f"Traceback …\n  raise E(url)\nConnectionError: https://u:{REDACTED}@h with token={REDACTED},"
		f" {{'api_key': '{REDACTED}'}}"
	)


secrets = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=6, max_size=20)


@given(secrets)
def test_a_secret_never_survives_in_a_url_a_pair_or_a_json_string(secret):
	values = [
		f"https://user:{secret}@example.com/path",
		f"see https://example.com/?signature={secret}&x=1",
		json.dumps({"data": {"client_secret": secret}}),
		f"ValueError: bad pin: {secret}",
	]
	assert not [value for value in values if secret in json.dumps(redact({"value": value}))]
