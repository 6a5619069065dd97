"""The whitelisted API over real HTTP: each endpoint as owner, other user, manager, Website User and Guest;
nothing leaks through frappe.client.get_list or /api/resource; random input never produces a server error."""

import json

import frappe
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import async_jobs
from async_jobs.engine.control.cancel import cancel_job
from tests.support import world
from tests.support.checks import row
from tests.support.harness import BASE_URL

API = f"{BASE_URL}/api/method/async_jobs.api."
OWNER, OTHER, MANAGER, GUEST, NO_ROLE = world.OWNER, world.OTHER, world.MANAGER, world.GUEST, world.NO_ROLE


def call(clients, user, endpoint, method="GET", **params):
	session = clients[user]
	if method == "GET":
		return session.get(API + endpoint, params=params, timeout=30)
	return session.post(API + endpoint, data=params, timeout=30)


def message(response):
	return response.json()["message"]


@pytest.fixture
def owners_job():
	"""A queued job that belongs to OWNER (no worker runs in this module: it stays queued)."""
	frappe.set_user(OWNER)
	job = async_jobs.enqueue("aj-test-add", {"a": 1, "b": 2})
	frappe.set_user("Administrator")
	frappe.db.commit()
	yield job.name
	if row(job.name).status == "Queued":
		cancel_job(job.name)
		frappe.db.commit()


# enqueue ---------------------------------------------------------------------------------------------------------


def test_a_user_with_the_job_types_role_can_start_it_and_owns_the_job(clients):
	response = call(
		clients, OWNER, "enqueue", "POST", job_type="aj-test-add", kwargs=json.dumps({"a": 1, "b": 1})
	)
	assert response.status_code == 200, response.text
	handle = message(response)
	assert handle["owner"] == OWNER and handle["status"] == "Queued"
	cancel_job(handle["name"])
	frappe.db.commit()


@pytest.mark.parametrize(
	"user, job_type, status",
	[
		(GUEST, "aj-test-add", 403),
		(NO_ROLE, "aj-test-add", 403),
		(world.WEBSITE_USER, "aj-test-add", 403),
		(OWNER, "aj-test-server-only", 403),
		(OWNER, "no-such-type", 404),
	],
)
def test_enqueue_is_refused_to_guests_users_without_the_role_and_server_only_or_unknown_types(
	clients, user, job_type, status
):
	before = frappe.db.count("Async Job")
	response = call(clients, user, "enqueue", "POST", job_type=job_type)
	assert response.status_code == status, response.text
	frappe.db.rollback()
	assert frappe.db.count("Async Job") == before


def test_a_job_about_a_document_needs_write_permission_on_it(clients):
	frappe.set_user(OTHER)
	todo = frappe.get_doc({"doctype": "ToDo", "description": "aj-api", "allocated_to": OTHER}).insert()
	frappe.set_user("Administrator")
	frappe.db.commit()
	try:
		refused = call(
			clients,
			OWNER,
			"enqueue",
			"POST",
			job_type="aj-test-todo",
			reference_doctype="ToDo",
			reference_name=todo.name,
		)
		allowed = call(
			clients,
			OTHER,
			"enqueue",
			"POST",
			job_type="aj-test-todo",
			reference_doctype="ToDo",
			reference_name=todo.name,
		)
		missing = call(clients, OTHER, "enqueue", "POST", job_type="aj-test-todo")
		assert refused.status_code == 403, refused.text
		assert allowed.status_code == 200, allowed.text
		assert missing.status_code == 417, missing.text
		assert message(allowed)["reference_name"] == todo.name
		cancel_job(message(allowed)["name"])
	finally:
		frappe.delete_doc("ToDo", todo.name, force=True)
		frappe.db.commit()


def test_malformed_kwargs_are_a_validation_error(clients):
	for kwargs in ("not json", "[1, 2]", json.dumps({"a": "x" * 600_000})):
		response = call(clients, OWNER, "enqueue", "POST", job_type="aj-test-add", kwargs=kwargs)
		assert response.status_code == 417, response.text[:300]


# status, detail, cancel ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["status", "detail"])
@pytest.mark.parametrize("user, status", [(OWNER, 200), (MANAGER, 200), (OTHER, 403), (GUEST, 403)])
def test_reading_a_job_is_for_its_owner_and_managers(clients, owners_job, endpoint, user, status):
	response = call(clients, user, endpoint, name=owners_job)
	assert response.status_code == status, response.text
	if status == 200:
		assert message(response)["name"] == owners_job


def test_an_unknown_job_is_not_found(clients):
	assert call(clients, OWNER, "status", name="no-such-job").status_code == 404


@pytest.mark.parametrize("user", [OTHER, GUEST])
def test_others_cannot_cancel_a_job(clients, owners_job, user):
	response = call(clients, user, "cancel", "POST", name=owners_job)
	assert response.status_code == 403, response.text
	assert row(owners_job).status == "Queued"


@pytest.mark.parametrize("user", [OWNER, MANAGER])
def test_the_owner_and_managers_can_cancel_a_job(clients, owners_job, user):
	response = call(clients, user, "cancel", "POST", name=owners_job)
	assert response.status_code == 200, response.text
	assert message(response)["status"] == "Cancelled"
	assert row(owners_job).status == "Cancelled"


def test_cancel_is_post_only(clients, owners_job):
	assert call(clients, OWNER, "cancel", "GET", name=owners_job).status_code == 403
	assert row(owners_job).status == "Queued"


# lists -----------------------------------------------------------------------------------------------------------


def test_my_jobs_shows_owners_their_own_and_managers_everyones(clients, owners_job):
	mine = {j["name"] for j in message(call(clients, OWNER, "my_jobs", limit=500))}
	others = {j["name"] for j in message(call(clients, OTHER, "my_jobs", limit=500))}
	managers = {j["name"] for j in message(call(clients, MANAGER, "my_jobs", owner=OWNER, limit=500))}
	assert owners_job in mine and owners_job in managers and owners_job not in others
	assert call(clients, OTHER, "my_jobs", owner=OWNER).status_code == 403
	assert call(clients, GUEST, "my_jobs").status_code == 403


def test_nothing_leaks_through_get_list_or_the_rest_api(clients, owners_job):
	def names(user, url, **params):
		response = clients[user].get(url, params=params, timeout=30)
		return response.status_code, response.json()

	resource = f"{BASE_URL}/api/resource/Async Job"
	get_list = f"{BASE_URL}/api/method/frappe.client.get_list"
	params = {"limit_page_length": 0, "fields": json.dumps(["name", "owner"])}

	status, body = names(OTHER, resource, **params)
	assert status == 200 and all(r["owner"] == OTHER for r in body["data"])
	status, body = names(OTHER, get_list, doctype="Async Job", **params)
	assert status == 200 and all(r["owner"] == OTHER for r in body["message"])
	assert clients[OTHER].get(f"{resource}/{owners_job}", timeout=30).status_code == 403
	assert clients[GUEST].get(resource, timeout=30).status_code == 403

	status, body = names(MANAGER, resource, **params)
	assert owners_job in {r["name"] for r in body["data"]}
	assert clients[OWNER].get(f"{resource}/{owners_job}", timeout=30).status_code == 200


# batches ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def owners_batch():
	"""A batch of OWNER's with one queued child (no worker runs in this module)."""
	frappe.set_user(OWNER)
	batch = async_jobs.enqueue_batch("aj-test-add", [{"a": 1, "b": 2}])
	frappe.set_user("Administrator")
	frappe.db.commit()
	yield batch.name
	from async_jobs.engine.control.batch import cancel_batch_jobs, requeue_failed_children

	cancel_batch_jobs(batch.name)


@pytest.mark.parametrize("user, status", [(OWNER, 200), (MANAGER, 200), (OTHER, 403), (GUEST, 403)])
def test_a_batch_is_for_its_owner_and_managers(clients, owners_batch, user, status):
	response = call(clients, user, "batch_status", name=owners_batch)
	assert response.status_code == status, response.text
	if status == 200:
		assert message(response)["total"] == 1 and message(response)["owner"] == OWNER
	assert call(
		clients, user, "cancel_batch", "POST", name=owners_batch if status != 200 else ""
	).status_code in (
		403,
		417,
	)


def test_cancelling_a_batch_is_post_only_and_ends_it_cancelled(clients, owners_batch):
	assert call(clients, OWNER, "cancel_batch", "GET", name=owners_batch).status_code == 403
	assert call(clients, OTHER, "cancel_batch", "POST", name=owners_batch).status_code == 403
	response = call(clients, OWNER, "cancel_batch", "POST", name=owners_batch)
	assert response.status_code == 200 and message(response)["status"] == "Cancelled"
	assert call(clients, OWNER, "batch_status", name="no-such-batch").status_code == 404


def test_batches_do_not_leak_through_the_rest_api(clients, owners_batch):
	resource = f"{BASE_URL}/api/resource/Async Job Batch"
	params = {"limit_page_length": 0, "fields": json.dumps(["name", "owner"])}
	body = clients[OTHER].get(resource, params=params, timeout=30).json()
	assert all(r["owner"] == OTHER for r in body["data"])
	assert clients[OTHER].get(f"{resource}/{owners_batch}", timeout=30).status_code == 403
	assert owners_batch in {b["name"] for b in message(call(clients, MANAGER, "active_batches"))}
	assert owners_batch not in {b["name"] for b in message(call(clients, OTHER, "active_batches"))}


# fuzz ------------------------------------------------------------------------------------------------------------

junk = st.one_of(
	st.none(),
	st.booleans(),
	st.integers(min_value=-(2**40), max_value=2**40),
	st.floats(allow_nan=True),
	st.text(max_size=40),
	st.lists(st.integers(), max_size=3).map(json.dumps),
	st.dictionaries(st.text(max_size=8), st.integers(), max_size=3).map(json.dumps),
)
# Not retry_matching: with random filters a manager would queue again every failed job on the site (tested above).
ENDPOINTS = {
	"enqueue": ("POST", ["job_type", "kwargs", "reference_doctype", "reference_name"]),
	"status": ("GET", ["name"]),
	"detail": ("GET", ["name"]),
	"my_jobs": ("GET", ["status", "job_type", "queue", "owner", "limit", "start"]),
	"cancel": ("POST", ["name"]),
	"retry": ("POST", ["name"]),
	"monitor": ("GET", ["status", "job_type", "queue", "owner", "since_hours"]),
	"startable_job_types": ("GET", ["doctype"]),
	"batch_status": ("GET", ["name"]),
	"cancel_batch": ("POST", ["name"]),
	"retry_batch": ("POST", ["name"]),
	"active_batches": ("GET", ["reference_doctype", "reference_name"]),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
	endpoint=st.sampled_from(sorted(ENDPOINTS)),
	user=st.sampled_from([OWNER, OTHER, MANAGER, GUEST, world.WEBSITE_USER]),
	data=st.data(),
)
def test_random_arguments_from_any_user_never_cause_a_server_error(clients, endpoint, user, data):
	method, params = ENDPOINTS[endpoint]
	args = {p: v for p in params if (v := data.draw(junk, label=p)) is not None}
	if endpoint == "enqueue" and data.draw(st.booleans(), label="real job type"):
		args["job_type"] = data.draw(st.sampled_from([t["name"] for t in world.JOB_TYPES]), label="job_type")
	response = call(clients, user, endpoint, method, **{k: str(v) for k, v in args.items()})
	assert response.status_code < 500, (
		f"{endpoint} as {user} with {args}: {response.status_code} {response.text[:500]}"
	)
	if response.status_code == 200 and endpoint == "enqueue":
		cancel_job(message(response)["name"])
		frappe.db.commit()
