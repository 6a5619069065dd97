"""The real arguments of a job, encrypted for the ledger: pickled (as RQ stores them) and encrypted with the site's
key. The readable `arguments` field holds a redacted copy; this one lets retries and recovery enqueue again."""

import base64
import pickle

from frappe.utils.password import decrypt, encrypt


def encrypt_arguments(kwargs: dict) -> str:
	return encrypt(base64.b64encode(pickle.dumps(kwargs)).decode())


def decrypt_arguments(encrypted: str) -> dict:
	return pickle.loads(base64.b64decode(decrypt(encrypted)))
