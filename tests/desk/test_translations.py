"""Translations in Frappe 15's format: async_jobs/locale/main.pot lists every string of the app (as `bench
generate-pot-file` extracts them), de.po translates every string of the Desk (DocTypes, workspace, the Desk's
scripts), and a German-speaking manager sees the settings, the job list and an alert in German (real Chromium)."""

from pathlib import Path

import frappe
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from async_jobs.engine.health import alerts
from tests.support import world
from tests.support.alerting import forget_alerts

APP = Path(frappe.get_app_path("async_jobs"))
LOCALE = APP / "locale"
# The Job Monitor page is being reworked; its strings are in the pot, their German follows the rework.
DESK = ("/doctype/", "/workspace/", "/public/js/")
NOT_YET = ("/public/js/job_monitor/", "/page/job_monitor/")


def catalog(name: str):
	with open(LOCALE / name, "rb") as f:
		return read_po(f)


def extracted() -> dict[tuple[str, str | None], set[str]]:
	"""Every translatable string of the app package, with the files it is in (Frappe's own extractors)."""
	from frappe.gettext.translate import get_method_map

	keywords = {**DEFAULT_KEYWORDS, "_lt": None}
	found = {}
	for filename, _lineno, message, _comments, context in extract_from_dir(
		str(APP), get_method_map("frappe"), keywords=keywords
	):
		if message and not isinstance(message, tuple):
			found.setdefault((message, context), set()).add(f"/{filename}")
	return found


def test_the_pot_lists_every_string_of_the_app():
	pot = {(m.id, m.context) for m in catalog("main.pot") if m.id}
	missing = sorted(str(key) for key in extracted() if key not in pot)
	assert not missing, (
		f"{len(missing)} strings missing from main.pot (run bench generate-pot-file): {missing[:20]}"
	)


def test_german_translates_every_desk_string():
	de = {(m.id, m.context): m.string for m in catalog("de.po") if m.id}
	desk = [
		key
		for key, files in extracted().items()
		if any(any(p in f for p in DESK) and not any(n in f for n in NOT_YET) for f in files)
	]
	assert len(desk) > 150
	untranslated = sorted(str(key) for key in desk if not de.get(key))
	assert not untranslated, f"{len(untranslated)} Desk strings without German: {untranslated[:20]}"


@pytest.fixture
def german_manager():
	frappe.db.set_value("User", world.MANAGER, "language", "de")
	frappe.db.commit()
	forget_alerts()
	yield world.MANAGER
	frappe.db.set_value("User", world.MANAGER, "language", None)
	forget_alerts()
	frappe.db.commit()


@pytest.mark.browser
def test_a_german_speaking_manager_reads_the_settings_the_list_and_an_alert_in_german(
	german_manager, desk, web, screenshot_dir
):
	page = desk(german_manager)
	page.goto(f"{web}/app/async-jobs-settings")
	for label in ("Bereinigung alter Jobs", "Zustandsprüfungen", "Beendete Jobs behalten (Tage)"):
		page.get_by_text(label, exact=True).first.wait_for(timeout=30_000)
	page.screenshot(path=str(screenshot_dir / "settings-de.png"))

	page.goto(f"{web}/app/async-job")
	page.wait_for_function("() => window.cur_list && cur_list.doctype === 'Async Job'", timeout=60_000)
	head = page.locator(".list-row-head")
	for label in ("Warteschlange", "Fortschritt", "Dauer", "Fehler"):
		head.get_by_text(label, exact=True).wait_for(timeout=30_000)

	alerts.sync(
		[alerts.Finding("no-worker:aj-de", "Queue aj-de", "wrong", "fix", queue="aj-de")], notify=False
	)
	name = frappe.db.get_value("Async Jobs Alert", {"alert_key": "no-worker:aj-de"}, "name")
	page.goto(f"{web}/app/async-jobs-alert/{name}")
	page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=name, timeout=60_000)
	assert page.locator(".page-head .indicator-pill:visible").first.inner_text().strip() == "Offen"
	assert page.locator(".page-actions button:visible", has_text="Stummschalten").count() == 1
	assert page.locator(".page-actions button:visible", has_text="Bestätigen").count() == 1
