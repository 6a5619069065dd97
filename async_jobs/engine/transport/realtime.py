"""Realtime messages to the Desk, sent at once (inside a job publish_realtime would not wait for a commit anyway):
to the owner, to the room of the document the job or batch is about, and to the managers' room.

Realtime has no role-based rooms; a document's room admits only users who may read that document. The settings
single is readable by managers alone, so its room is the managers' channel (the Job Monitor subscribes to it).
Readers of the document a job is about are not its owner: they get only the fields they may see (publish_to_readers:
progress and status, never the owner, the message or the error, which api.status refuses them too)."""

from contextlib import suppress

import frappe
import redis
from frappe.realtime import get_doc_room, get_user_room
from frappe.utils.background_jobs import get_redis_connection_without_auth

from async_jobs.engine.ledger import settings

MONITOR_ROOM = settings.DOCTYPE


def publish(
	event: str, message: dict, owner: str, *documents: tuple[str | None, str | None], also: tuple = ()
) -> None:
	"""Send `message` to its owner, to each (doctype, name) in `documents` that names a document, and to the
	managers — and the (event, message, room) triples `also` (for_readers) — in one Redis round trip."""
	rooms = [get_user_room(owner)]
	rooms += [get_doc_room(doctype, name) for doctype, name in documents if name]
	rooms.append(get_doc_room(MONITOR_ROOM, MONITOR_ROOM))
	emit([(event, message, room) for room in rooms] + list(also))


def for_readers(
	event: str, message: dict, fields: tuple[str, ...], doctype: str | None, name: str | None
) -> list[tuple[str, dict, str]]:
	"""The `fields` of `message` for the room of document (doctype, name), if it names one, as triples for emit."""
	if not (doctype and name):
		return []
	shared = {field: message[field] for field in fields if field in message}
	return [(event, shared, get_doc_room(doctype, name))]


def publish_to_readers(
	event: str, message: dict, fields: tuple[str, ...], doctype: str | None, name: str | None
) -> None:
	"""Send the `fields` of `message` to the room of document (doctype, name), if it names one."""
	emit(for_readers(event, message, fields, doctype, name))


def emit(messages: list[tuple[str, dict, str]]) -> None:
	"""Frappe's emit_via_redis for many (event, message, room) at once: one pipeline to the socketio server's
	channel, in the format publish_realtime sends (after_commit=False: sent at once)."""
	if not messages:
		return
	with suppress(redis.exceptions.ConnectionError):
		pipe = get_redis_connection_without_auth().pipeline(transaction=False)
		for event, message, room in messages:
			pipe.publish(
				"events",
				frappe.as_json(
					{"event": event, "message": message, "room": room, "namespace": frappe.local.site}
				),
			)
		pipe.execute()


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
