"""Progress reaches the job's owner live through the real socketio server, and nobody else."""

import json
import threading
import uuid

import frappe
import pytest
import socketio

import async_jobs
from async_jobs.engine.run.progress import EVENT
from async_jobs.engine.transport.realtime import MONITOR_ROOM
from tests.support import world
from tests.support.checks import wait_for_status
from tests.support.harness import BASE_URL, SITE, SOCKETIO_PORT, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.browser]
NAMESPACE = f"/{SITE}"


class Listener:
	"""A python-socketio client logged in with a Desk session cookie, recording async_jobs events."""

	def __init__(self, session):
		self.events: list[tuple[str, dict]] = []
		self.lock = threading.Lock()
		self.client = socketio.Client(reconnection=False)
		for event in ("async_jobs:progress", "async_jobs:finished"):
			self.client.on(event, self._recorder(event), namespace=NAMESPACE)
		self.client.connect(
			f"http://{SITE}:{SOCKETIO_PORT}",
			namespaces=[NAMESPACE],
			headers={"Origin": BASE_URL, "Cookie": f"sid={session.cookies['sid']}"},
			transports=["polling"],  # websocket-client would add a second Origin header
			wait_timeout=20,
		)

	def _recorder(self, event):
		def record(data):
			with self.lock:
				self.events.append((event, data))

		return record

	def of(self, job: str, event: str) -> list[dict]:
		with self.lock:
			return [data for name, data in self.events if name == event and data.get("name") == job]

	def subscribe_monitor(self):
		"""Ask to join the managers' room (the server refuses users who may not read the settings)."""
		self.subscribe_document(MONITOR_ROOM, MONITOR_ROOM)

	def subscribe_document(self, doctype: str, name: str):
		"""Ask to join a document's room, as an open form does (the server admits readers of the document)."""
		self.client.emit("doc_subscribe", (doctype, name), namespace=NAMESPACE)

	def close(self):
		self.client.disconnect()


def probe_monitor_room(*listeners) -> str:
	"""Publish to the managers' room until every given listener hears it: their subscriptions are then live."""
	return probe_room(MONITOR_ROOM, MONITOR_ROOM, *listeners)


def probe_room(doctype: str, name: str, *listeners) -> str:
	"""Publish to a document's room until every given listener hears it: their subscriptions are then live."""
	probe = f"probe-{uuid.uuid4().hex}"

	def heard():
		frappe.publish_realtime(EVENT, {"name": probe}, doctype=doctype, docname=name)
		return all(listener.of(probe, EVENT) for listener in listeners)

	wait_for(heard, timeout=20, interval=0.3, message=f"the subscription to {doctype} {name}")
	return probe


def test_the_owner_receives_live_progress_and_the_end_and_another_user_receives_nothing(worker, clients):
	owner, other = Listener(clients[world.OWNER]), Listener(clients[world.OTHER])
	try:
		response = clients[world.OWNER].post(
			f"{BASE_URL}/api/method/async_jobs.api.enqueue",
			data={"job_type": "aj-test-steps", "kwargs": json.dumps({"n": 20, "delay": 0.15})},
			timeout=30,
		)
		assert response.status_code == 200, response.text
		job = response.json()["message"]["name"]

		finished = wait_for(
			lambda: owner.of(job, "async_jobs:finished"), timeout=60, message="the finished event"
		)
		wait_for_status(job, "Finished")
		percents = [e["percent"] for e in owner.of(job, "async_jobs:progress")]

		assert finished[0]["status"] == "Finished" and finished[0]["owner"] == world.OWNER
		assert len({p for p in percents if 0 < p < 100}) >= 2, f"progress seen: {percents}"
		assert percents == sorted(percents) and percents[-1] == 100
		assert len(percents) < 20, "progress was not throttled"
		assert other.of(job, "async_jobs:progress") == [] and other.of(job, "async_jobs:finished") == []
	finally:
		owner.close()
		other.close()


def test_managers_watching_the_monitor_room_see_every_users_progress_and_others_cannot_join_it(
	worker, clients
):
	manager, other = Listener(clients[world.MANAGER]), Listener(clients[world.OTHER])
	try:
		manager.subscribe_monitor()
		other.subscribe_monitor()
		probe = probe_monitor_room(manager)

		frappe.set_user(world.OWNER)
		job = async_jobs.enqueue("aj-test-steps", {"n": 10, "delay": 0.15}).name
		frappe.set_user("Administrator")
		frappe.db.commit()
		wait_for(
			lambda: manager.of(job, "async_jobs:finished"), timeout=60, message="the manager's finished event"
		)

		assert manager.of(job, EVENT), "the manager saw no progress"
		assert other.of(probe, EVENT) == [] and other.of(job, EVENT) == [], "a non-manager joined the room"
	finally:
		manager.close()
		other.close()


def test_readers_of_the_document_see_a_jobs_progress_and_end_but_not_its_owner_message_or_error(
	worker, clients
):
	todo = frappe.get_doc(
		{"doctype": "ToDo", "description": "aj-readers", "allocated_to": world.OTHER}
	).insert()
	frappe.db.commit()  # OTHER may read it: it is allocated to them
	owner, reader = Listener(clients[world.OWNER]), Listener(clients[world.OTHER])
	try:
		reader.subscribe_document("ToDo", todo.name)
		probe_room("ToDo", todo.name, reader)
		frappe.set_user(world.OWNER)
		job = async_jobs.enqueue(
			"async_jobs.testing.jobs.steps_then_fail",
			{"n": 6, "delay": 0.15, "message": "private note"},
			queue="short",
			reference_doctype="ToDo",
			reference_name=todo.name,
		).name
		frappe.set_user("Administrator")
		frappe.db.commit()
		ended = wait_for(
			lambda: reader.of(job, "async_jobs:finished"), timeout=60, message="the reader's end"
		)
		wait_for(lambda: owner.of(job, "async_jobs:finished"), timeout=30, message="the owner's end")

		seen = reader.of(job, EVENT) + ended
		assert reader.of(job, EVENT) and ended[0]["status"] == "Failed"
		assert all(not {"owner", "message", "error"} & set(event) for event in seen), seen
		full = owner.of(job, "async_jobs:finished")[0]
		assert full["owner"] == world.OWNER and "private note" in full["error"]
	finally:
		owner.close()
		reader.close()
		frappe.delete_doc("ToDo", todo.name, force=True)
		frappe.db.commit()
