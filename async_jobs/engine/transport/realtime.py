"""Realtime messages to the Desk, sent at once (inside a job publish_realtime would not wait for a commit anyway):
to the owner, to the room of the document the job or batch is about, and to the managers' room.

Realtime has no role-based rooms; a document's room admits only users who may read that document. The settings
single is readable by managers alone, so its room is the managers' channel (the Job Monitor subscribes to it).
Readers of the document a job is about are not its owner: they get only the fields they may see (publish_to_readers:
progress and status, never the owner, the message or the error, which api.status refuses them too)."""

import frappe

from async_jobs.engine.ledger import settings

MONITOR_ROOM = settings.DOCTYPE


def publish(event: str, message: dict, owner: str, *documents: tuple[str | None, str | None]) -> None:
	"""Send `message` to its owner, to each (doctype, name) in `documents` that names a document, and to the
	managers."""
	frappe.publish_realtime(event, message, user=owner, after_commit=False)
	for doctype, name in documents:
		if name:
			frappe.publish_realtime(event, message, doctype=doctype, docname=name, after_commit=False)
	frappe.publish_realtime(event, message, doctype=MONITOR_ROOM, docname=MONITOR_ROOM, after_commit=False)


def publish_to_readers(
	event: str, message: dict, fields: tuple[str, ...], doctype: str | None, name: str | None
) -> None:
	"""Send the `fields` of `message` to the room of document (doctype, name), if it names one."""
	if doctype and name:
		shared = {field: message[field] for field in fields if field in message}
		frappe.publish_realtime(event, shared, doctype=doctype, docname=name, after_commit=False)


def announce(event: str, job, status: str, **extra) -> None:
	"""A new waiting job (`job`: its row or document), to its owner and the managers, so the Job Monitor lists it
	without a refresh. Not to its document's readers: forms show running jobs only."""
	message = {
		"name": job.name,
		"job_type": job.job_type,
		"owner": job.owner,
		"status": status,
		"done": 0,
		"total": None,
		"percent": 0.0,
		"message": None,
		"reference_doctype": job.reference_doctype,
		"reference_name": job.reference_name,
		**extra,
	}
	publish(event, message, job.owner)
