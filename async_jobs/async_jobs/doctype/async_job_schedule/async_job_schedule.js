// Async Job Schedule form: job types and time zones to pick from, the next runs (in the schedule's time zone and
// the system's) and the recent runs, each linking to its Async Job.
frappe.ui.form.on("Async Job Schedule", {
	onload(frm) {
		frappe.call({ method: "async_jobs.api.schedule_choices" }).then((r) => {
			if (!r.message) return;
			frm.fields_dict.job_type.set_data(r.message.job_types);
			frm.fields_dict.time_zone.set_data(r.message.time_zones);
		});
	},
	refresh(frm) {
		const esc = frappe.utils.escape_html;
		const next = frm.get_field("next_runs_html").$wrapper;
		const runs = frm.get_field("runs_html").$wrapper;
		if (frm.is_new()) {
			next.html(`<p class="text-muted small">${__("Save the schedule to see its next runs.")}</p>`);
			runs.empty();
			return;
		}
		frm.add_custom_button(__("Runs"), () => frappe.set_route("List", "Async Job", { schedule: frm.doc.name }));
		frappe.call({ method: "async_jobs.api.schedule_overview", args: { name: frm.doc.name } }).then((r) => {
			const data = r.message || {};
			const upcoming = data.next_runs || [];
			next.html(
				upcoming.length
					? `<div class="aj-next-runs"><div class="small text-muted">${__("Next runs")}</div><ol class="small">${upcoming
						.map((t) => `<li class="aj-next-run" data-at="${esc(t.at)}">${esc(frappe.datetime.str_to_user(t.at))} <span class="text-muted">(${esc(t.local)})</span></li>`)
						.join("")}</ol></div>`
					: `<p class="text-muted small aj-next-runs">${__("Disabled: no next runs.")}</p>`
			);
			const rows = data.runs || [];
			runs.html(
				rows.length
					? `<div class="small text-muted">${__("Recent runs ({0} in all)", [data.total_runs])}</div>
					<table class="table table-sm small aj-schedule-runs"><thead><tr><th>${__("Run")}</th><th>${__("Status")}</th><th>${__("Created")}</th><th>${__("Ran")}</th></tr></thead><tbody>${rows
						.map((j) => `<tr class="aj-schedule-run" data-job="${esc(j.name)}"><td><a href="/app/async-job/${encodeURIComponent(j.name)}">${esc(j.name)}</a></td>
							<td>${async_jobs.ui.indicator(j.status)}</td><td>${esc(frappe.datetime.str_to_user(j.creation))}</td>
							<td>${esc(async_jobs.ui.seconds(j.run_seconds))}</td></tr>`)
						.join("")}</tbody></table>`
					: `<p class="text-muted small aj-schedule-runs">${__("No runs yet.")}</p>`
			);
		});
	},
});
