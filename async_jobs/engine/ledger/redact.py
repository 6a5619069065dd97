"""Secrets never reach the ledger or the Error Log: values under secret-looking keys are replaced at any depth, and
strings are scanned too — credentials in URLs (`user:pass@`), `token=…` pairs, bearer tokens, JSON held in a
string. The arguments, the result, the error and the traceback of a job all pass through here."""

import json
import re
from typing import Any

SECRET_KEY = re.compile(
	r"pass(word|wd)?|secret|token|api[_-]?key|auth|credential|private[_-]?key|signature|cookie|jwt", re.I
)
# Secret when a whole word of the key (split at _, -, . and camelCase): `key`, `access_key`, `user_pin`, `sid`.
SECRET_WORDS = frozenset({"pwd", "key", "otp", "pin", "sid", "cookie", "signature", "jwt"})
REDACTED = "********"

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_TEXT_KEY = (
	r"(?:[\w.-]*[_.-])?(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
	r"|auth\w*|credentials?|otp|pin|sid|cookie|signature|jwt)"
)
_TEXT_SECRETS = (
	# credentials in a URL: scheme://user:password@host
	(re.compile(r"(?<=://)([^/\s:@'\"]+):([^/\s@'\"]+)@"), rf"\1:{REDACTED}@"),
	# Authorization: Bearer xyz / Basic xyz
	(re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
	# token=xyz, "password": "xyz", 'api_key': 'xyz', pin: 1234 (in query strings, reprs, JSON, prose)
	(
		re.compile(
			rf"""(?i)(?<![\w.-])(["']?{_TEXT_KEY}["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,&;)}}\]'"]+)"""
		),
		lambda m: m.group(1) + _quoted_like(m.group(2)),
	),
)


def _quoted_like(value: str) -> str:
	quote = value[0] if value[:1] in ("'", '"') else ""
	return f"{quote}{REDACTED}{quote}"


def is_secret_key(key: Any) -> bool:
	if not isinstance(key, str):
		return False
	return bool(SECRET_KEY.search(key) or SECRET_WORDS.intersection(w.lower() for w in _WORD.findall(key)))


def redact(value: Any) -> Any:
	"""`value` with every secret replaced by REDACTED: values under secret keys, secrets inside strings."""
	if isinstance(value, dict):
		return {k: (REDACTED if is_secret_key(k) else redact(v)) for k, v in value.items()}
	if isinstance(value, list | tuple):
		return [redact(v) for v in value]
	if isinstance(value, str):
		return redact_string(value)
	return value


def redact_string(text: str) -> str:
	"""A string value: JSON inside it is redacted as data, anything else as text."""
	stripped = text.strip()
	if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
		try:
			return json.dumps(redact(json.loads(stripped)), sort_keys=True)
		except ValueError:
			pass
	return redact_text(text)


def redact_text(text: str | None) -> str | None:
	"""Free text (an error message, a traceback, a log line) with the secrets it shows replaced."""
	if not text:
		return text
	for pattern, replacement in _TEXT_SECRETS:
		text = pattern.sub(replacement, text)
	return text


def readable_arguments(kwargs: dict) -> str:
	"""The `arguments` field of the ledger: the job's arguments, redacted, as readable JSON."""
	return json.dumps(redact(kwargs), indent=1, sort_keys=True, default=str)
