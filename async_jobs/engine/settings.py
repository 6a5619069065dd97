"""Settings with their precedence: site_config.json (operators, tests) over Async Jobs Settings over defaults."""

import frappe
from frappe.utils import cint

DOCTYPE = "Async Jobs Settings"
DEFAULTS = {"cancel_grace_seconds": 10}


def get(key: str):
	conf = frappe.conf.get(f"async_jobs_{key}")
	if conf is not None:
		return conf
	value = frappe.db.get_single_value(DOCTYPE, key, cache=True)
	return value if value not in (None, "") else DEFAULTS[key]


def cancel_grace_seconds() -> float:
	return float(cint(get("cancel_grace_seconds")) or DEFAULTS["cancel_grace_seconds"])
