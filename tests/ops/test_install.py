"""The app installs, loads its hooks, migrates and uninstalls on a real Frappe 15 site."""

import json
import uuid

import frappe
import pytest

from tests.support.harness import ADMIN_PASSWORD, COMMON_CONFIG, SITES, run_bench


def _ok(result) -> str:
	assert result.returncode == 0, (
		f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
	)
	return result.stdout


def _module_def_exists(site: str) -> bool:
	out = _ok(
		run_bench(
			"--site", site, "execute", "frappe.db.exists", "--args", json.dumps(["Module Def", "Async Jobs"])
		)
	)
	return out.strip() not in ("", "None", "null")


def _our_scheduled_jobs(site: str) -> int:
	filters = {"method": ["like", "async_jobs.%"]}
	out = _ok(
		run_bench(
			"--site",
			site,
			"execute",
			"frappe.db.count",
			"--args",
			json.dumps(["Scheduled Job Type", filters]),
		)
	)
	lines = out.strip().splitlines()
	return int(lines[-1]) if lines else 0  # bench execute prints nothing for a 0


def test_app_is_installed_and_its_hooks_load():
	assert "async_jobs" in frappe.get_installed_apps()
	assert frappe.get_hooks("app_title", app_name="async_jobs") == ["Async Jobs"]
	assert frappe.local.module_app["async_jobs"] == "async_jobs"
	assert frappe.db.exists("Module Def", "Async Jobs")


@pytest.mark.slow
def test_migrate_passes(site):
	_ok(run_bench("--site", site, "migrate"))


@pytest.mark.slow
def test_install_and_uninstall_round_trip_on_a_fresh_site():
	throwaway = f"aj-roundtrip-{uuid.uuid4().hex[:8]}.localhost"
	root_password = COMMON_CONFIG["root_password"]
	try:
		_ok(
			run_bench(
				"new-site", throwaway, "--admin-password", ADMIN_PASSWORD, "--db-root-password", root_password
			)
		)
		assert "async_jobs" not in _ok(run_bench("--site", throwaway, "list-apps"))

		_ok(run_bench("--site", throwaway, "install-app", "async_jobs"))
		assert "async_jobs" in _ok(run_bench("--site", throwaway, "list-apps"))
		assert _module_def_exists(throwaway)
		assert _our_scheduled_jobs(throwaway) >= 5

		_ok(run_bench("--site", throwaway, "uninstall-app", "async_jobs", "--yes", "--no-backup", "--force"))
		assert "async_jobs" not in _ok(run_bench("--site", throwaway, "list-apps"))
		assert not _module_def_exists(throwaway)
		assert _our_scheduled_jobs(throwaway) == 0, (
			"the scheduler would keep running an uninstalled app's jobs"
		)
	finally:
		if (SITES / throwaway).exists():
			run_bench(
				"drop-site",
				throwaway,
				"--force",
				"--no-backup",
				"--db-root-password",
				root_password,
				timeout=120,
			)
	assert not (SITES / throwaway).exists()
