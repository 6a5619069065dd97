// A toast for the user's own jobs when they end, wherever the user is in the Desk.
frappe.provide("async_jobs");

const INDICATORS = { Finished: "green", Cancelled: "orange" };

async_jobs.on_finished = (event, data) => {
	if (event !== "async_jobs:finished" || data.owner !== frappe.session.user) return;
	const label = frappe.utils.escape_html(async_jobs.ui.job_title(data.job_type, data.name)); // show_alert inserts HTML
	const text =
		data.status === "Finished"
			? __("Background job {0} finished", [label])
			: __("Background job {0}: {1}", [label, __(data.status)]);
	frappe.show_alert({ message: text, indicator: INDICATORS[data.status] || "red" }, 7);
};

$(document).on("app_ready", () => async_jobs.events.subscribe("toast", async_jobs.on_finished));
