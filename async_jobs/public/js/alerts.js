// Watchdog alerts reach the alert recipients live (realtime channel of Async Jobs Settings): a toast when a
// problem appears or clears, linking to its Async Jobs Alert.
async_jobs.events.subscribe("watchdog-alerts", (event, data) => {
	if (event !== "async_jobs:alert" || !data.name) return;
	const link = `<a href="/app/async-jobs-alert/${encodeURIComponent(data.name)}">${frappe.utils.escape_html(
		data.title || ""
	)}</a>`;
	frappe.show_alert(
		{
			message: data.open ? __("Async Jobs alert: {0}", [link]) : __("Alert cleared: {0}", [link]),
			indicator: data.open ? "red" : "green",
		},
		data.open ? 15 : 7
	);
});
