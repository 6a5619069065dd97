// Live progress of a batch on the document it is about (its reference), wherever that form is open: a bar in the
// form's dashboard while the batch runs, then a reload and, if some jobs failed, an alert.
frappe.provide("async_jobs.batch");

const BATCH_ACTIVE = ["Planning", "Running"];

const ended_batches = new Set(); // a batch's events come through several rooms: its end is shown once

async_jobs.batch.show_on_form = (frm, batch) => {
	const title = batch.title || batch.name;
	const label = __("Batch: {0}", [title]);
	if (BATCH_ACTIVE.includes(batch.status)) {
		ended_batches.delete(batch.name); // running (again, after a retry)
		async_jobs.ui.show_form_bar(frm, label, batch.progress_percent || 0, async_jobs.ui.batch_counts(batch));
		return;
	}
	async_jobs.ui.hide_form_bar(frm, label);
	if (ended_batches.has(batch.name)) return;
	ended_batches.add(batch.name);
	const failed = batch.status !== "Finished";
	frappe.show_alert(
		{
			message: __("Batch {0}: {1}", [frappe.utils.escape_html(title), __(batch.status)]),
			indicator: failed ? "red" : "green",
		},
		7
	);
	frm.reload_doc();
};

async_jobs.batch.on_event = (event, data) => {
	if (event !== "async_jobs:batch" || !window.cur_frm || !data.reference_name) return;
	const frm = window.cur_frm;
	if (frm.doctype === data.reference_doctype && frm.docname === data.reference_name) {
		async_jobs.batch.show_on_form(frm, data);
	}
};

$(document).on("app_ready", () => async_jobs.events.subscribe("batch-reference", async_jobs.batch.on_event));
