"""Realtime messages to the Desk, sent at once (inside a job publish_realtime would not wait for a commit anyway):
to the owner, to the room of the document the job or batch is about, and to the managers' room.

Realtime has no role-based rooms; a document's room admits only users who may read that document. The settings
single is readable by managers alone, so its room is the managers' channel (the Job Monitor subscribes to it)."""

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
