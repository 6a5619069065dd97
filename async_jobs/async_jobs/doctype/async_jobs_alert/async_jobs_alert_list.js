frappe.listview_settings["Async Jobs Alert"] = {
	hide_name_column: true,
	get_indicator(doc) {
		return doc.status === "Open"
			? [__("Open"), "red", "status,=,Open"]
			: [__("Cleared"), "green", "status,=,Cleared"];
	},
};
