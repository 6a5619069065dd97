"""Secrets never reach the ledger: values under secret-looking keys are replaced, at any depth."""

import json
import re
from typing import Any

SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|auth|credential|private[_-]?key", re.I)
REDACTED = "********"


def redact(value: Any) -> Any:
	if isinstance(value, dict):
		return {
			k: (REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else redact(v))
			for k, v in value.items()
		}
	if isinstance(value, list | tuple):
		return [redact(v) for v in value]
	return value


def readable_arguments(kwargs: dict) -> str:
	"""The `arguments` field of the ledger: the job's arguments, redacted, as readable JSON."""
	return json.dumps(redact(kwargs), indent=1, sort_keys=True, default=str)
