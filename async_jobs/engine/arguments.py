"""The real arguments of a job, sealed for the ledger: pickled (as RQ stores them) and encrypted with the site's
key. The readable `arguments` field holds a redacted copy; this one lets retries and recovery enqueue again."""

import base64
import pickle

from frappe.utils.password import decrypt, encrypt


def seal(kwargs: dict) -> str:
	return encrypt(base64.b64encode(pickle.dumps(kwargs)).decode())


def unseal(sealed: str) -> dict:
	return pickle.loads(base64.b64decode(decrypt(sealed)))
