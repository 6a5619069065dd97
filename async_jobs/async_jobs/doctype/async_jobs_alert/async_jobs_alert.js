// Async Jobs Alert form: nothing to edit (no Save); Acknowledge and Snooze for managers; links to what the alert is
// about (its Scheduled Job Type and its log, or the queue's waiting jobs).
const ALERT_COLORS = { Open: "red", Acknowledged: "orange", Snoozed: "gray", Cleared: "green" };
const SNOOZE_HOURS = { "1 hour": 1, "4 hours": 4, "1 day": 24, "1 week": 168 };

const ALERT_TEXT = ["title", "message", "fix", "queue"];

frappe.ui.form.on("Async Jobs Alert", {
	onload(frm) {
		async_jobs.ui.show_as_text(frm, ALERT_TEXT);
	},
	refresh(frm) {
		async_jobs.ui.show_as_text(frm, ALERT_TEXT);
		frm.disable_save();
		const doc = frm.doc;
		frm.page.set_indicator(__(doc.status), ALERT_COLORS[doc.status] || "gray");
		if (doc.status !== "Cleared" && frm.perm[0] && frm.perm[0].write) {
			if (doc.status !== "Acknowledged") {
				frm.add_custom_button(__("Acknowledge"), () => alert_action(frm, "acknowledge_alert", {}));
			}
			frm.add_custom_button(__("Snooze"), () => snooze_dialog(frm));
		}
		if (doc.scheduled_job_type && frappe.model.can_read("Scheduled Job Type")) {
			frm.add_custom_button(
				__("Scheduled Job Type"),
				() => frappe.set_route("Form", "Scheduled Job Type", doc.scheduled_job_type),
				__("Go to")
			);
			frm.add_custom_button(
				__("Scheduled Job Log"),
				() => frappe.set_route("List", "Scheduled Job Log", { scheduled_job_type: doc.scheduled_job_type }),
				__("Go to")
			);
		}
		if (doc.queue) {
			if (frappe.model.can_read("RQ Job")) {
				// every job of the queue, plain frappe.enqueue ones too (Frappe lets System Managers read them)
				frm.add_custom_button(
					__("Waiting jobs in queue {0}", [doc.queue]),
					() => frappe.set_route("List", "RQ Job", { queue: doc.queue, status: "queued" }),
					__("Go to")
				);
			}
			frm.add_custom_button(
				__("Async Jobs in queue {0}", [doc.queue]),
				() => frappe.set_route("List", "Async Job", { queue: doc.queue }),
				__("Go to")
			);
		}
		if (doc.alert_key && doc.alert_key.startsWith("scheduler-")) {
			if (frappe.model.can_read("Scheduled Job Log")) {
				frm.add_custom_button(__("Scheduled Job Log"), () => frappe.set_route("List", "Scheduled Job Log"), __("Go to"));
			}
			if (frappe.model.can_read("System Settings")) {
				frm.add_custom_button(__("System Settings"), () => frappe.set_route("Form", "System Settings"), __("Go to"));
			}
		}
	},
});

function alert_action(frm, method, args) {
	frappe.call({
		method: `async_jobs.api.${method}`,
		args: { name: frm.doc.name, ...args },
		freeze: true,
		callback: () => frm.reload_doc(),
	});
}

function snooze_dialog(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Snooze this alert"),
		fields: [
			{
				fieldname: "for",
				fieldtype: "Select",
				label: __("For"),
				options: [...Object.keys(SNOOZE_HOURS), "Until a time"].map((value) => ({ value, label: __(value) })),
				default: "4 hours",
			},
			{
				fieldname: "until",
				fieldtype: "Datetime",
				label: __("Until"),
				depends_on: "eval:doc.for === 'Until a time'",
			},
			{
				fieldtype: "HTML",
				options: `<p class="text-muted small">${__(
					"Nothing about this alert is announced until then. If the problem is still there at that time, the alert opens again and is announced."
				)}</p>`,
			},
		],
		primary_action_label: __("Snooze"),
		primary_action(values) {
			const hours = SNOOZE_HOURS[values.for];
			if (!hours && !values.until) {
				frappe.msgprint(__("Choose until when."));
				return;
			}
			dialog.hide();
			alert_action(frm, "snooze_alert", hours ? { hours } : { until: values.until });
		},
	});
	dialog.show();
}
