// Live notices for the user's own background jobs (events come from async_jobs.engine.executor).
frappe.provide("async_jobs");

const FINISHED = "async_jobs:finished";

async_jobs.on_finished = (data) => {
	if (!data || data.owner !== frappe.session.user) return;
	const ok = data.status === "Finished";
	const text = ok
		? __("Background job {0} finished", [data.job_type || data.name])
		: __("Background job {0}: {1}", [data.job_type || data.name, __(data.status)]);
	frappe.show_alert({ message: text, indicator: ok ? "green" : data.status === "Cancelled" ? "orange" : "red" }, 7);
};

$(document).on("app_ready", () => {
	frappe.realtime.off(FINISHED, async_jobs.on_finished);
	frappe.realtime.on(FINISHED, async_jobs.on_finished);
});
