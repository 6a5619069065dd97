// Job-type buttons on forms (declared with "button" in a job type about a DocType), with live progress of every
// job about the open document, a reload when one ends and the reason when one fails.
frappe.provide("async_jobs.form");

async_jobs.form.start = (frm, job_type) => {
	const button = job_type.button || {};
	const args = button.method
		? { name: frm.doc.name }
		: {
				job_type: job_type.name,
				kwargs: JSON.stringify({ name: frm.doc.name }),
				reference_doctype: frm.doctype,
				reference_name: frm.doc.name,
		  };
	frappe.call({
		method: button.method || "async_jobs.api.enqueue",
		args,
		callback: (r) => {
			if (!r.message) return;
			frm.reload_doc(); // the start may have changed the document (a status, say)
			async_jobs.form.show(frm, r.message.name, job_type.label, 0, __("Queued"));
			frappe.show_alert({ message: __("{0} started in the background", [__(job_type.label)]), indicator: "blue" });
		},
	});
};

// A job's events come through several rooms (its owner's, the document's): the end is handled once per job. Events
// sent to the document's room carry no owner, message or error (readers of the document may not see those).
const ended = new Map(); // job name → whether its failure was reported

async_jobs.form.show = (frm, name, label, percent, message) => {
	frm.__async_jobs = frm.__async_jobs || {};
	const bar = (frm.__async_jobs[name] = frm.__async_jobs[name] || { label: label || name, message: "" });
	if (message != null) bar.message = message;
	ended.delete(name); // running (again)
	async_jobs.ui.show_form_bar(frm, __(bar.label), percent, bar.message);
};

async_jobs.form.on_event = (frm, event, data) => {
	const bars = frm.__async_jobs || {};
	const about_this = data.reference_doctype === frm.doctype && data.reference_name === frm.docname;
	if (!about_this && !bars[data.name]) return;
	const label = (bars[data.name] || {}).label || data.job_type;
	if (event === "async_jobs:progress") {
		async_jobs.form.show(frm, data.name, label, data.percent, data.message);
		return;
	}
	async_jobs.ui.hide_form_bar(frm, __(label));
	delete bars[data.name];
	const seen = ended.has(data.name);
	const failed = data.status !== "Finished" && data.status !== "Cancelled";
	const report = failed && "owner" in data && !ended.get(data.name);
	ended.set(data.name, ended.get(data.name) || report);
	if (report) {
		frappe.msgprint({
			title: frappe.utils.escape_html(__("{0}: {1}", [__(label), __(data.status)])),
			message: frappe.utils.escape_html(data.error || __("No reason was recorded")),
			indicator: "red",
		});
	}
	if (!seen) frm.reload_doc();
};

async_jobs.form.setup = (frm, job_types) => {
	if (frm.is_new()) return;
	for (const job_type of job_types) {
		frm.add_custom_button(__(job_type.button.label || job_type.label), () => async_jobs.form.start(frm, job_type),
			__("Background Jobs"));
	}
	// One subscription per form object (Frappe reuses it for every document of the DocType).
	async_jobs.events.subscribe(`form:${frm.doctype}`, (event, data) => async_jobs.form.on_event(frm, event, data));
	frappe.call({
		method: "async_jobs.api.my_jobs",
		args: { reference_doctype: frm.doctype, reference_name: frm.doc.name, status: "Started", limit: 10 },
		callback: (r) =>
			(r.message || []).forEach((job) =>
				async_jobs.form.show(frm, job.name, job.job_type, job.progress_percent, job.progress_message)
			),
	});
};

$(document).on("app_ready", () => {
	const buttons = (frappe.boot.async_jobs || {}).buttons || {};
	for (const [doctype, job_types] of Object.entries(buttons)) {
		frappe.ui.form.on(doctype, { refresh: (frm) => async_jobs.form.setup(frm, job_types) });
	}
});
