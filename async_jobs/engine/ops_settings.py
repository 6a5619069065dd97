"""The operations part of Async Jobs Settings (retention, health thresholds, alerting, digest, report) as one
dict with the DocType's defaults filled in for fields never saved."""

import frappe

DOCTYPE = "Async Jobs Settings"


def load() -> frappe._dict:
	doc = frappe.get_cached_doc(DOCTYPE)
	config = frappe._dict()
	for field in frappe.get_meta(DOCTYPE).fields:
		if field.fieldtype in ("Section Break", "Column Break"):
			continue
		value = doc.get(field.fieldname)
		if value is None and field.default is not None:
			value = _typed(field.fieldtype, field.default)
		config[field.fieldname] = value
	return config


def _typed(fieldtype: str, default: str):
	if fieldtype in ("Int", "Check"):
		return int(default)
	if fieldtype in ("Float", "Percent"):
		return float(default)
	return default
