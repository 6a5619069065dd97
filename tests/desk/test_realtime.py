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
		self.client.emit("doc_subscribe", (MONITOR_ROOM, MONITOR_ROOM), namespace=NAMESPACE)

	def close(self):
		self.client.disconnect()


def probe_monitor_room(*listeners) -> str:
	"""Publish to the managers' room until every given listener hears it: their subscriptions are then live."""
	probe = f"probe-{uuid.uuid4().hex}"

	def heard():
		frappe.publish_realtime(EVENT, {"name": probe}, doctype=MONITOR_ROOM, docname=MONITOR_ROOM)
		return all(listener.of(probe, EVENT) for listener in listeners)

	wait_for(heard, timeout=20, interval=0.3, message="the managers' room subscription")
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
