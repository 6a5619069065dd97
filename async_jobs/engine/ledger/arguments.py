"""The real arguments of a job, encrypted for the ledger: pickled (as RQ stores them) and encrypted with the site's
key (Frappe's encrypt/decrypt format: Fernet over base64). The readable `arguments` field holds a redacted copy;
this one lets retries and recovery enqueue again."""

import base64
import pickle

from cryptography.fernet import Fernet
from frappe.utils.password import decrypt, get_encryption_key

_ciphers: dict[
	str, Fernet
] = {}  # one per site key and process: building one per job cost more than encrypting


def encrypt_arguments(kwargs: dict, pickled: bytes | None = None) -> str:
	"""`pickled`: pickle.dumps(kwargs) when the caller already made it."""
	key = get_encryption_key()
	cipher = _ciphers.get(key) or _ciphers.setdefault(key, Fernet(key.encode()))
	return cipher.encrypt(base64.b64encode(pickled or pickle.dumps(kwargs))).decode()


def decrypt_arguments(encrypted: str) -> dict:
	return pickle.loads(base64.b64decode(decrypt(encrypted)))
