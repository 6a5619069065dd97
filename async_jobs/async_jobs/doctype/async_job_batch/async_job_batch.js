// Async Job Batch form: live aggregated progress, counts, cancel / retry failed children, the children's list.
const BATCH_OPEN = ["Planning", "Running"];

frappe.ui.form.on("Async Job Batch", {
	refresh(frm) {
		frm.disable_save();
		const doc = frm.doc;
		frm.page.set_indicator(__(doc.status), async_jobs.ui.STATUS_COLORS[doc.status] || "gray");
		frm.add_custom_button(__("Jobs"), () => frappe.set_route("List", "Async Job", { batch: doc.name }));
		if (BATCH_OPEN.includes(doc.status) && !doc.cancel_requested) {
			frm.add_custom_button(__("Cancel Batch"), () =>
				async_jobs.ui.confirm_action("cancel_batch", doc.name, () => frm.reload_doc()), __("Actions"));
		}
		if (doc.failed > 0) {
			frm.add_custom_button(__("Retry Failed Jobs"), () =>
				async_jobs.ui.confirm_action("retry_batch", doc.name, () => frm.reload_doc()), __("Actions"));
		}
		frm.dashboard.clear_headline();
		frm.dashboard.set_headline(
			`${async_jobs.ui.batch_counts(doc)} · ${__("{0} succeeded, {1} cancelled", [doc.succeeded, doc.cancelled])}`
		);
		if (BATCH_OPEN.includes(doc.status)) {
			frappe.call({ method: "async_jobs.api.batch_status", args: { name: doc.name } }).then((r) =>
				r.message && async_jobs.ui.show_form_bar(frm, __("Progress"), r.message.progress_percent, async_jobs.ui.batch_counts(r.message))
			);
		}
		async_jobs.events.subscribe("form:Async Job Batch", (event, data) => {
			if (event !== "async_jobs:batch" || data.name !== frm.doc.name) return;
			if (BATCH_OPEN.includes(data.status)) {
				async_jobs.ui.show_form_bar(frm, __("Progress"), data.progress_percent, async_jobs.ui.batch_counts(data));
			} else {
				frm.reload_doc();
			}
		});
	},
});
