"""What a user may start and retry, over real HTTP: a form start works on the document permission was checked on,
a reference the job type does not declare is refused, jobs never block deleting their document, non-managers retry
only what they may start now, and dedup never hands one user another user's job."""

import json

import frappe
import pytest

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from tests.support import world
from tests.support.checks import row
from tests.support.harness import BASE_URL

API = f"{BASE_URL}/api/method/async_jobs.api."
OWNER, OTHER, MANAGER, NO_ROLE = world.OWNER, world.OTHER, world.MANAGER, world.NO_ROLE
F = "async_jobs.testing.jobs."


def post(clients, user, endpoint, **data):
	return clients[user].post(API + endpoint, data=data, timeout=30)


def cancel_all(*names):
	for name in names:
		cancel_job(name)
	frappe.db.commit()


@pytest.fixture
def todos():
	"""A ToDo of OTHER's (theirs to write) and one of Administrator's (not theirs)."""
	made = []
	for user in (OTHER, "Administrator"):
		frappe.set_user(user)
		made.append(
			frappe.get_doc({"doctype": "ToDo", "description": "aj-bound", "allocated_to": user}).insert()
		)
	frappe.set_user("Administrator")
	frappe.db.commit()
	yield [todo.name for todo in made]
	for todo in made:
		frappe.delete_doc("ToDo", todo.name, force=True, ignore_missing=True)
	frappe.db.commit()


def test_a_form_start_works_on_the_document_permission_was_checked_on(clients, todos):
	mine, not_mine = todos
	start = {"job_type": "aj-test-todo", "reference_doctype": "ToDo", "reference_name": mine}

	other_document = post(clients, OTHER, "enqueue", **start, kwargs=json.dumps({"name": not_mine}))
	extra_arguments = post(clients, OTHER, "enqueue", **start, kwargs=json.dumps({"name": mine, "x": 1}))
	assert other_document.status_code == 403, other_document.text  # refused, not overridden
	assert extra_arguments.status_code == 403, extra_arguments.text
	started = [
		post(clients, OTHER, "enqueue", **start, kwargs=kwargs) for kwargs in ("", json.dumps({"name": mine}))
	]
	for response in started:
		assert response.status_code == 200, response.text
		job = row(response.json()["message"]["name"])
		assert json.loads(job.arguments) == {"name": mine} and job.reference_name == mine
	cancel_all(*(r.json()["message"]["name"] for r in started))


def test_a_reference_the_job_type_does_not_declare_is_refused(clients, todos):
	before = frappe.db.count("Async Job")
	response = post(
		clients, OWNER, "enqueue", job_type="aj-test-add", kwargs=json.dumps({"a": 1, "b": 2}),
		reference_doctype="ToDo", reference_name=todos[1],
	)  # fmt: skip
	assert response.status_code == 417, response.text
	frappe.db.rollback()
	assert frappe.db.count("Async Job") == before


def test_a_job_about_a_document_does_not_block_deleting_it(clients, todos):
	mine = todos[0]
	started = post(
		clients, OTHER, "enqueue", job_type="aj-test-todo", reference_doctype="ToDo", reference_name=mine
	)
	assert started.status_code == 200, started.text
	cancel_all(started.json()["message"]["name"])

	deleted = clients[OTHER].delete(f"{BASE_URL}/api/resource/ToDo/{mine}", timeout=30)
	assert deleted.status_code < 300, deleted.text
	frappe.db.rollback()
	assert not frappe.db.exists("ToDo", mine)
	assert row(started.json()["message"]["name"]).reference_name == mine  # the ledger keeps what it was about


def cancelled_job(user: str, method: str, kwargs: dict) -> str:
	"""A job of `user`'s that ended Cancelled (retryable by hand), enqueued by server code."""
	frappe.set_user(user)
	job = async_jobs.enqueue(method, kwargs, queue="short")
	frappe.db.commit()
	frappe.set_user("Administrator")
	cancel_all(job.name)
	return job.name


@pytest.mark.parametrize(
	"user, method, status",
	[
		(OWNER, F + "add", 403),  # a plain dotted-path job: server code's
		(OWNER, "aj-test-server-only", 403),  # a job type the browser cannot start
		(NO_ROLE, "aj-test-add", 403),  # a job type whose role the owner does not hold
		(OWNER, "aj-test-add", 200),  # one the owner may start now
		(MANAGER, F + "add", 200),  # managers retry anything
	],
)
def test_non_managers_retry_only_what_they_may_start_now(clients, user, method, status):
	name = cancelled_job(user, method, {"a": 1, "b": 2})
	response = post(clients, user, "retry", name=name)
	assert response.status_code == status, response.text
	assert row(name).status == ("Queued" if status == 200 else "Cancelled")
	cancel_all(name)


def test_retry_matching_skips_what_the_user_may_not_start(clients):
	startable = cancelled_job(OWNER, "aj-test-add", {"a": 1, "b": 2})
	server_only = cancelled_job(OWNER, "aj-test-server-only", {"a": 1, "b": 2})
	plain = cancelled_job(OWNER, F + "add", {"a": 1, "b": 2})
	response = post(clients, OWNER, "retry_matching", status="Cancelled")
	assert response.status_code == 200, response.text
	retried = response.json()["message"]
	cancel_all(*retried)
	assert startable in retried and server_only not in retried and plain not in retried


def test_dedup_never_hands_one_user_another_users_job(clients):
	start = {"job_type": "aj-test-dedup", "kwargs": json.dumps({"a": 1, "b": 2})}
	first, again = (post(clients, OWNER, "enqueue", **start).json()["message"] for _ in range(2))
	theirs = post(clients, OTHER, "enqueue", **start).json()["message"]
	assert again["name"] == first["name"]
	assert theirs["name"] != first["name"] and theirs["owner"] == OTHER
	cancel_all(first["name"], theirs["name"])
