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

async_jobs.form.show = (frm, name, label, percent, message) => {
	frm.__async_jobs = frm.__async_jobs || {};
	frm.__async_jobs[name] = label || frm.__async_jobs[name] || name;
	frm.dashboard.show_progress(__(frm.__async_jobs[name]), percent || 0, message || "");
};

async_jobs.form.on_event = (frm, event, data) => {
	const about_this = data.reference_doctype === frm.doctype && data.reference_name === frm.docname;
	if (!about_this && !(frm.__async_jobs || {})[data.name]) return;
	const label = (frm.__async_jobs || {})[data.name] || data.job_type;
	if (event === "async_jobs:progress") {
		async_jobs.form.show(frm, data.name, label, data.percent, data.message);
		return;
	}
	frm.dashboard.hide_progress(__(label));
	delete (frm.__async_jobs || {})[data.name];
	if (data.status !== "Finished" && data.status !== "Cancelled") {
		frappe.msgprint({
			title: __("{0}: {1}", [__(label), __(data.status)]),
			message: frappe.utils.escape_html(data.error || __("No reason was recorded")),
			indicator: "red",
		});
	}
	frm.reload_doc();
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
