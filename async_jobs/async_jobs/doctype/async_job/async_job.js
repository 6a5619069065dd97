// Async Job form: status, live progress, cancel / retry (confirmed; the server checks who may).
const ASYNC_JOB_WAITING = ["Scheduled", "Queued", "Retrying", "Held"];
const ASYNC_JOB_RETRYABLE = ["Failed", "Timed Out", "Dead", "Cancelled", "Lost", "Expired"];

frappe.ui.form.on("Async Job", {
	refresh(frm) {
		frm.disable_save();
		const status = frm.doc.status;
		frm.page.set_indicator(__(status), async_jobs.ui.STATUS_COLORS[status] || "gray");
		if ([...ASYNC_JOB_WAITING, "Started"].includes(status)) {
			frm.add_custom_button(__("Cancel"), () => async_jobs.ui.confirm_action("cancel", frm.doc.name, () => frm.reload_doc()), __("Actions"));
		}
		if (ASYNC_JOB_RETRYABLE.includes(status)) {
			frm.add_custom_button(__("Retry"), () => async_jobs.ui.confirm_action("retry", frm.doc.name, () => frm.reload_doc()), __("Actions"));
		}
		if (frm.doc.error_log) {
			frm.add_custom_button(__("Error Log"), () => frappe.set_route("Form", "Error Log", frm.doc.error_log));
		}
		if (status === "Started") {
			async_jobs.ui.show_form_bar(frm, __("Progress"), frm.doc.progress_percent, frm.doc.progress_message);
		}
		if ((frappe.boot.async_jobs || {}).is_manager) frappe.realtime.doc_subscribe("Async Jobs Settings", "Async Jobs Settings");
		async_jobs.events.subscribe("form:Async Job", (event, data) => {
			if (data.name !== frm.doc.name) return;
			if (event === "async_jobs:progress" && !data.status) {
				async_jobs.ui.show_form_bar(frm, __("Progress"), data.percent, data.message);
			} else {
				frm.reload_doc();
			}
		});
	},
});
