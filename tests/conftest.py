"""pytest harness: one connection to the real test site for the session, real processes on demand.

Run through scripts/test (it runs pytest with the bench's Python in the bench's sites folder).
"""

import os
import shutil

import frappe
import pytest
import requests

from tests.support import harness, world


@pytest.fixture(scope="session", autouse=True)
def site():
	"""Connect this process to the test site once; mark setup complete so the Desk opens without the wizard."""
	os.chdir(harness.SITES)
	shutil.rmtree(harness.ARTIFACTS / "logs", ignore_errors=True)  # logs of this run only
	frappe.init(site=harness.SITE, sites_path=str(harness.SITES))
	frappe.connect()
	frappe.set_user("Administrator")
	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		frappe.db.set_single_value("System Settings", "setup_complete", 1)
		frappe.db.set_default("desktop:home_page", "workspace")
		frappe.db.commit()
	world.build()
	yield harness.SITE
	frappe.destroy()


@pytest.fixture(autouse=True)
def clean_transaction():
	"""Each test starts and ends outside any open transaction, as Administrator."""
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.clear_messages()
	yield
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture
def empty_queues():
	"""Empty this bench's RQ queues so a test sees only the jobs it enqueued."""
	from frappe.utils.background_jobs import get_queues

	for queue in get_queues():
		queue.empty()
	yield


@pytest.fixture(scope="module")
def worker():
	"""One real worker process on short, default and long for the tests of a module: `bench worker`, or the fast
	worker when ASYNC_JOBS_TEST_WORKER=fast."""
	proc = harness.start_worker()
	yield proc
	proc.stop()


@pytest.fixture
def worker_factory():
	"""Start as many real workers as a test needs; all are stopped when it ends."""
	procs: list[harness.Process] = []

	def start(queues: str = "short,default,long") -> harness.Process:
		procs.append(harness.start_worker(queues))
		return procs[-1]

	yield start
	for proc in procs:
		proc.stop()


@pytest.fixture(scope="session")
def web():
	"""The web server and the socketio server, as `bench start` runs them."""
	web = harness.start_web()
	socketio = harness.start_socketio()
	yield harness.BASE_URL
	socketio.stop()
	web.stop()


BROWSER_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser(web):
	"""Debian's Chromium driven by Playwright (no browser download)."""
	from playwright.sync_api import sync_playwright

	executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=executable, headless=True, args=BROWSER_ARGS)
		yield browser
		browser.close()


@pytest.fixture
def screenshot_dir():
	path = harness.ARTIFACTS / "screenshots"
	path.mkdir(parents=True, exist_ok=True)
	return path


@pytest.fixture(scope="module")
def stager():
	"""The bench-wide stager process (`bench async-jobs stager`) that moves due delayed jobs onto queues."""
	proc = harness.Process(
		"stager", harness.frappe_cli("async-jobs", "stager", "--interval", "0.5", "--lifeline-interval", "1")
	)
	harness.wait_for(
		lambda: proc.check() and "staging" in proc.log_path.read_text(), timeout=60, message="stager"
	)
	yield proc
	proc.stop()


@pytest.fixture(scope="module")
def clients(web):
	"""One HTTP session per test user, logged in through /api/method/login (Guest: a session never logged in)."""
	sessions = {}
	for user in [*world.USERS, world.GUEST]:
		session = requests.Session()
		if user != world.GUEST:
			response = session.post(
				f"{web}/api/method/login", data={"usr": user, "pwd": world.PASSWORD}, timeout=30
			)
			assert response.status_code == 200, response.text
		sessions[user] = session
	yield sessions
	for session in sessions.values():
		session.close()


def pytest_collection_modifyitems(config, items):
	"""The chaos suite runs last: it kills workers, flushes the queue Redis and restarts MariaDB under the others.
	On a bench without ERPNext the ERPNext tests are deselected (reported as such, never skipped or passed)."""
	items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)
	if "erpnext" in (harness.SITES / "apps.txt").read_text().split():
		return
	erpnext = [item for item in items if item.get_closest_marker("erpnext")]
	if erpnext:
		config.hook.pytest_deselected(items=erpnext)
		items[:] = [item for item in items if not item.get_closest_marker("erpnext")]
		print(
			f"\n{len(erpnext)} ERPNext tests deselected: this bench has no ERPNext (ASYNC_JOBS_PROFILE=erpnext)"
		)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
	report = yield
	if report.when == "call":
		item.failed_call = report.failed
	return report
