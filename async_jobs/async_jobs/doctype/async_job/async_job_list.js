// Async Job list: status indicators, a progress bar, bulk retry / cancel, live refresh when jobs end.
frappe.listview_settings["Async Job"] = {
	add_fields: ["status", "progress_percent", "progress_message", "job_type", "error"],
	hide_name_column: false,
	get_indicator(doc) {
		return [__(doc.status), async_jobs.ui.STATUS_COLORS[doc.status] || "gray", `status,=,${doc.status}`];
	},
	formatters: {
		progress_percent(value, df, doc) {
			return doc.status === "Started" || value ? async_jobs.ui.bar(value, doc.progress_message) : "";
		},
	},
	onload(listview) {
		const bulk = (action) => () => {
			const names = listview.get_checked_items(true);
			frappe.confirm(__("{0} {1} job(s)?", [action === "cancel" ? __("Cancel") : __("Retry"), names.length]), () =>
				Promise.allSettled(names.map((name) => frappe.xcall(`async_jobs.api.${action}`, { name }))).then((results) => {
					const failed = results.filter((r) => r.status === "rejected").length;
					frappe.show_alert({
						message: __("{0} done, {1} refused", [results.length - failed, failed]),
						indicator: failed ? "orange" : "green",
					});
					listview.refresh();
				})
			);
		};
		listview.page.add_action_item(__("Retry"), bulk("retry"));
		listview.page.add_action_item(__("Cancel"), bulk("cancel"));
		let pending = null;
		async_jobs.events.subscribe("list:Async Job", (event) => {
			if (event !== "async_jobs:finished" || frappe.get_route_str() !== "List/Async Job/List") return;
			clearTimeout(pending);
			pending = setTimeout(() => listview.refresh(), 1000);
		});
	},
};
