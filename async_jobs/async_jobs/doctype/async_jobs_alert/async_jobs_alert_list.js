const ALERT_LIST_COLORS = { Open: "red", Acknowledged: "orange", Snoozed: "gray", Cleared: "green" };

frappe.listview_settings["Async Jobs Alert"] = {
	hide_name_column: true,
	add_fields: ["status", "snoozed_until", "acknowledged_by"],
	get_indicator(doc) {
		return [__(doc.status), ALERT_LIST_COLORS[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
