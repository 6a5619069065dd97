"""The seed's flow, end to end: a document with items, a whitelisted method that validates quickly and enqueues,
and a job that processes item by item (progress per item), moves the document Processing → Completed / Failed and
mails its owner. The two DocTypes are custom ones made on the test site only."""

import time

import frappe
from frappe import _

import async_jobs
from async_jobs.engine.views import jobs

RECORD = "AJ Data Record"
ITEM = "AJ Data Record Item"
JOB_TYPE = "aj-process-data-record"


def ensure_doctypes(role: str) -> None:
	if not frappe.db.exists("DocType", ITEM):
		frappe.get_doc(
			{
				"doctype": "DocType",
				"name": ITEM,
				"module": "Async Jobs",
				"custom": 1,
				"istable": 1,
				"fields": [
					{"fieldname": "value", "fieldtype": "Data", "label": "Value", "in_list_view": 1},
					{"fieldname": "processed", "fieldtype": "Check", "label": "Processed", "in_list_view": 1},
				],
			}
		).insert()
	if not frappe.db.exists("DocType", RECORD):
		frappe.get_doc(
			{
				"doctype": "DocType",
				"name": RECORD,
				"module": "Async Jobs",
				"custom": 1,
				"autoname": "hash",
				"fields": [
					{"fieldname": "title", "fieldtype": "Data", "label": "Title", "in_list_view": 1},
					{
						"fieldname": "status",
						"fieldtype": "Select",
						"label": "Status",
						"options": "Draft\nProcessing\nCompleted\nFailed",
						"default": "Draft",
						"in_list_view": 1,
					},
					{"fieldname": "items", "fieldtype": "Table", "label": "Items", "options": ITEM},
				],
				"permissions": [
					{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1},
					{"role": role, "read": 1, "write": 1, "create": 1, "if_owner": 1},
				],
			}
		).insert()


@frappe.whitelist(methods=["POST"])
def start_processing(name: str) -> dict:
	"""Validate quickly, mark Processing, enqueue; the browser gets the job's handle back at once."""
	if not frappe.conf.allow_tests:
		frappe.throw(_("Test endpoints are off on this site"), frappe.PermissionError)
	doc = frappe.get_doc(RECORD, name)
	doc.check_permission("write")
	if doc.status == "Processing":
		frappe.throw(_("{0} is already being processed").format(name), frappe.ValidationError)
	if not doc.items:
		frappe.throw(_("{0} has no items to process").format(name), frappe.ValidationError)
	doc.db_set("status", "Processing")
	job = async_jobs.enqueue(JOB_TYPE, {"name": name}, reference_doctype=RECORD, reference_name=name)
	return jobs.job_summary(job)


def process_items(name: str, delay: float = 0.2) -> dict:
	doc = frappe.get_doc(RECORD, name)
	try:
		for i, item in enumerate(doc.items):
			if item.value == "fail":
				raise ValueError(f"item {i + 1} of {name} cannot be processed")
			time.sleep(delay)
			item.db_set("processed", 1)
			async_jobs.progress(i + 1, len(doc.items), _("Item {0}").format(item.value))
		doc.db_set("status", "Completed")
		frappe.sendmail(
			recipients=[frappe.db.get_value("User", doc.owner, "email")],
			subject=_("{0} processed").format(doc.title or name),
			message=_("All {0} items of {1} were processed.").format(len(doc.items), doc.title or name),
			reference_doctype=RECORD,
			reference_name=name,
		)
		return {"processed": len(doc.items)}
	except Exception:
		frappe.db.rollback()
		frappe.db.set_value(RECORD, name, "status", "Failed")
		frappe.db.commit()
		raise
