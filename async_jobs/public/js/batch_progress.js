// Live progress of a batch on the document it is about (its reference), wherever that form is open: a bar in the
// form's dashboard while the batch runs, then a reload and, if some jobs failed, an alert.
frappe.provide("async_jobs.batch");

const BATCH_ACTIVE = ["Planning", "Running"];

async_jobs.batch.show_on_form = (frm, batch) => {
	const label = __("Batch: {0}", [batch.title || batch.name]);
	if (BATCH_ACTIVE.includes(batch.status)) {
		frm.dashboard.show_progress(label, batch.progress_percent || 0, async_jobs.ui.batch_counts(batch));
		return;
	}
	frm.dashboard.hide_progress(label);
	const failed = batch.status !== "Finished";
	frappe.show_alert(
		{ message: __("Batch {0}: {1}", [batch.title || batch.name, __(batch.status)]), indicator: failed ? "red" : "green" },
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
