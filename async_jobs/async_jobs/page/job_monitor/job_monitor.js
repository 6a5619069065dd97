// The page's code lives in job_monitor.bundle.js (async_jobs.JobMonitor); this file only wires it to the route.
let job_monitor = null;

frappe.pages["job-monitor"].on_page_load = (wrapper) => {
	frappe.require("job_monitor.bundle.js", () => {
		job_monitor = new async_jobs.JobMonitor(wrapper);
		job_monitor.show();
	});
};

frappe.pages["job-monitor"].on_page_show = () => job_monitor && job_monitor.show();

// Leaving the page drops its realtime subscription and its fallback timer.
frappe.router.on("change", () => {
	if (job_monitor && frappe.get_route()[0] !== "job-monitor") job_monitor.hide();
});
