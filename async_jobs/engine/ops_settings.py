"""The operations part of Async Jobs Settings (retention, health thresholds, alerting, digest, report) as one
dict, with the DocType's defaults for fields that were never saved.

A Single stores only the values it was saved with: on a site that saved its settings before a field existed, that
field reads as 0 / None from the document. fill_defaults (after install and migrate) stores the defaults of such
fields so the Desk form and the tasks agree; load() applies them too, should a row still be missing."""

import frappe

DOCTYPE = "Async Jobs Settings"
LAYOUT = ("Section Break", "Column Break", "Tab Break")


def load() -> frappe._dict:
	stored = frappe.db.get_singles_dict(DOCTYPE, cast=True)
	config = frappe._dict()
	for field in frappe.get_meta(DOCTYPE).fields:
		if field.fieldtype in LAYOUT:
			continue
		value = stored.get(field.fieldname)
		if field.fieldname not in stored and field.default is not None:
			value = _typed(field.fieldtype, field.default)
		config[field.fieldname] = value
	return config


def fill_defaults() -> None:
	"""Store the default of every field of the settings that has a default and no stored value."""
	stored = frappe.db.get_singles_dict(DOCTYPE)
	for field in frappe.get_meta(DOCTYPE).fields:
		if field.fieldtype not in LAYOUT and field.default is not None and field.fieldname not in stored:
			frappe.db.set_single_value(DOCTYPE, field.fieldname, field.default)
	frappe.clear_document_cache(DOCTYPE, DOCTYPE)


def _typed(fieldtype: str, default: str):
	if fieldtype in ("Int", "Check"):
		return int(default)
	if fieldtype in ("Float", "Percent"):
		return float(default)
	return default
