"""The settings of async_jobs, each read one way: the site config's `async_jobs_<key>` (operators, tests) over the
value stored in Async Jobs Settings over the field's default.

A Single stores only the values it was saved with: on a site that saved its settings before a field existed, that
field has no stored value. fill_defaults (after install and migrate) stores the defaults of such fields so the Desk
form and the tasks agree; reads apply them too, should a value still be missing. A few settings have no field on the
document (SITE_CONFIG_ONLY): only the site config changes them."""

import frappe
from frappe.utils import flt

DOCTYPE = "Async Jobs Settings"
LAYOUT = ("Section Break", "Column Break", "Tab Break")
SITE_CONFIG_ONLY = {
	"recover_seconds": 30,  # a waiting job's RQ job may be missing this long before the lifeline enqueues it again
	"lifeline_stale_seconds": 30,  # a started job without a heartbeat this long counts as lost
	# with Frappe saying no `bench schedule` runs on this host, a Scheduled Job Log this old means the scheduler is
	# silent (the every-minute jobs of a scheduler on another host log more often)
	"scheduler_silent_seconds": 300,
}


def load() -> frappe._dict:
	"""Every setting."""
	stored = frappe.db.get_singles_dict(DOCTYPE, cast=True)
	config = frappe._dict({field.fieldname: _pick(field, stored) for field in _fields()})
	config.update({key: get(key) for key in SITE_CONFIG_ONLY})
	return config


def get(key: str):
	"""One setting (when the site config sets it, neither the document nor its meta is read)."""
	conf = site_config(key)
	if conf is not None:
		return conf
	if key in SITE_CONFIG_ONLY:
		return SITE_CONFIG_ONLY[key]
	return _pick(_field(key), frappe.db.get_singles_dict(DOCTYPE, cast=True))


def seconds(key: str) -> float:
	"""A duration setting in seconds; 0 or nothing means its default."""
	value = flt(get(key))
	if value:
		return value
	return float(SITE_CONFIG_ONLY[key] if key in SITE_CONFIG_ONLY else _default(_field(key)))


def site_config(key: str):
	"""`async_jobs_<key>` from the site config (None when it is not set)."""
	return frappe.conf.get(f"async_jobs_{key}")


def fill_defaults() -> None:
	"""Store the default of every field of the settings that has a default and no stored value."""
	stored = frappe.db.get_singles_dict(DOCTYPE)
	for field in _fields():
		if field.default is not None and field.fieldname not in stored:
			frappe.db.set_single_value(DOCTYPE, field.fieldname, field.default)
	frappe.clear_document_cache(DOCTYPE, DOCTYPE)


def _fields() -> list:
	return [field for field in frappe.get_meta(DOCTYPE).fields if field.fieldtype not in LAYOUT]


def _field(key: str):
	field = frappe.get_meta(DOCTYPE).get_field(key)
	if field is None:
		raise KeyError(f"{DOCTYPE} has no setting {key!r}")
	return field


def _pick(field, stored: dict):
	conf = site_config(field.fieldname)
	if conf is not None:
		return conf
	if field.fieldname in stored:
		return stored[field.fieldname]
	return _default(field)


def _default(field):
	return _typed(field.fieldtype, field.default) if field.default is not None else None


def _typed(fieldtype: str, default: str):
	if fieldtype in ("Int", "Check"):
		return int(default)
	if fieldtype in ("Float", "Percent"):
		return float(default)
	return default
