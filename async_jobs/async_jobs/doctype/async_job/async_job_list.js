// Async Job list: status indicators, Queue / Owner / Progress / Duration / Error columns, progress bars in the
// status's colour, Retry / Cancel offered only for selections they apply to, one report naming every refused job.
const AJ_LIST_RETRYABLE = ["Failed", "Timed Out", "Dead", "Cancelled", "Lost", "Expired"];
const AJ_LIST_CANCELLABLE = ["Scheduled", "Queued", "Retrying", "Held", "Started"];
const AJ_LIST_ERROR_SHOWN = ["Failed", "Timed Out", "Dead", "Lost", "Expired", "Retrying", "Cancelled"];
const AJ_LIST_COLUMNS = [
	{ fieldname: "queue", label: "Queue", fieldtype: "Data" },
	{ fieldname: "owner", label: "Owner", fieldtype: "Link", options: "User" },
	{ fieldname: "progress_percent", label: "Progress", fieldtype: "Percent" },
	{ fieldname: "run_seconds", label: "Duration", fieldtype: "Data" },
	{ fieldname: "error", label: "Error", fieldtype: "Data" },
];

const aj_color = (status) => async_jobs.ui.STATUS_COLORS[status] || "gray";

// A bar in the colour of the job's status indicator (the indicator pill's own colour variable).
function aj_list_bar(doc) {
	const running = doc.status === "Started";
	const value = Math.max(0, Math.min(100, Number(doc.progress_percent) || 0));
	if (!running && !value && doc.status !== "Finished") return `<span class="text-muted">–</span>`;
	const percent = doc.status === "Finished" ? 100 : value;
	const message = running ? doc.progress_message || "" : "";
	const text = frappe.utils.escape_html(message);
	return `<div class="aj-progress aj-list-progress" data-percent="${percent}" data-color="${aj_color(doc.status)}" title="${text}">
		<div class="progress" style="height: 6px; margin: 2px 0;">
			<div class="progress-bar" role="progressbar" aria-valuenow="${percent}" aria-valuemin="0" aria-valuemax="100"
				style="width: ${percent}%; background-color: var(--text-on-${aj_color(doc.status)});"></div>
		</div>
		<div class="small text-muted ellipsis"><span class="aj-percent">${percent.toFixed(0)}%</span>
			<span class="aj-message">${text}</span></div>
	</div>`;
}

function aj_duration(doc) {
	if (doc.status === "Started" && doc.started_at) {
		const since = frappe.datetime.str_to_obj(doc.started_at);
		return `<span class="aj-duration" title="${__("running")}">${async_jobs.ui.seconds((new Date() - since) / 1000)}</span>`;
	}
	if (doc.ended_at && doc.run_seconds != null) {
		return `<span class="aj-duration">${async_jobs.ui.seconds(doc.run_seconds)}</span>`;
	}
	return `<span class="text-muted">–</span>`;
}

function aj_error(doc) {
	if (!doc.error || !AJ_LIST_ERROR_SHOWN.includes(doc.status)) return "";
	const text = frappe.utils.escape_html(String(doc.error).split("\n")[0]);
	return `<span class="aj-error ellipsis text-danger" title="${text}">${text}</span>`;
}

function aj_report(action, result) {
	const done = result.done.length;
	const refused = result.refused;
	const verb = action === "retry" ? __("Retried") : __("Cancelled");
	if (!refused.length) {
		frappe.show_alert({ message: __("{0}: {1} job(s)", [verb, done]), indicator: "green" });
		return;
	}
	const rows = refused
		.map(
			(r) => `<tr data-job="${frappe.utils.escape_html(r.name)}">
				<td><a href="/app/async-job/${encodeURIComponent(r.name)}">${frappe.utils.escape_html(r.name)}</a></td>
				<td>${frappe.utils.escape_html(r.job_type || "")}</td>
				<td>${r.status ? async_jobs.ui.indicator(r.status) : ""}</td>
				<td class="aj-reason">${frappe.utils.escape_html(r.reason)}</td>
			</tr>`
		)
		.join("");
	frappe.msgprint({
		title: __("{0} {1} job(s), refused {2}", [verb, done, refused.length]),
		indicator: done ? "orange" : "red",
		message: `<table class="table table-bordered table-sm small aj-refused">
			<thead><tr><th>${__("Job")}</th><th>${__("Job Type")}</th><th>${__("Status")}</th><th>${__("Why not")}</th></tr></thead>
			<tbody>${rows}</tbody></table>`,
	});
}

frappe.listview_settings["Async Job"] = {
	add_fields: ["status", "progress_percent", "progress_message", "job_type", "error", "queue", "owner", "run_seconds", "started_at", "ended_at"],
	hide_name_column: true, // room for the columns above; the form shows the ID
	get_indicator(doc) {
		return [__(doc.status), aj_color(doc.status), `status,=,${doc.status}`];
	},
	formatters: {
		progress_percent: (value, df, doc) => aj_list_bar(doc),
		run_seconds: (value, df, doc) => aj_duration(doc),
		error: (value, df, doc) => aj_error(doc),
	},
	onload(listview) {
		// The columns a site manager asks for, whatever width the screen has (Frappe's own setup keeps 3 at 1400 px).
		const setup_columns = listview.setup_columns.bind(listview);
		listview.setup_columns = function () {
			setup_columns();
			const fixed = this.columns.filter((c) => c.type !== "Field");
			const id = this.columns.filter((c) => c.type === "Field" && c.df.fieldname === "name");
			const extra = AJ_LIST_COLUMNS.map((df) => ({ type: "Field", df: { ...df, label: __(df.label) } }));
			this.columns = [...fixed, ...extra, ...id];
		};
		listview.setup_columns();
		listview.render_header(true);

		const bulk = (action) => () => {
			const docs = listview.get_checked_items();
			const names = docs.map((d) => d.name);
			const label = action === "cancel" ? __("Cancel {0} job(s)?", [names.length]) : __("Retry {0} job(s)?", [names.length]);
			frappe.confirm(label, () =>
				frappe.call({
					method: `async_jobs.api.${action}_jobs`,
					args: { names },
					freeze: true,
					callback: (r) => {
						aj_report(action, r.message);
						listview.refresh();
					},
				})
			);
		};
		const retry = listview.page.add_action_item(__("Retry"), bulk("retry"));
		const cancel = listview.page.add_action_item(__("Cancel"), bulk("cancel"));
		// Offer an action only when it applies to some checked job.
		const offer = () => {
			const statuses = listview.get_checked_items().map((d) => d.status);
			$(retry).parent().toggle(statuses.some((s) => AJ_LIST_RETRYABLE.includes(s)));
			$(cancel).parent().toggle(statuses.some((s) => AJ_LIST_CANCELLABLE.includes(s)));
		};
		listview.$result.on("change", "input[type=checkbox]", () => setTimeout(offer, 0));
		listview.page.actions_btn_group && listview.page.actions_btn_group.on("show.bs.dropdown", offer);

		let pending = null;
		async_jobs.events.subscribe("list:Async Job", (event) => {
			if (event !== "async_jobs:finished" || frappe.get_route_str() !== "List/Async Job/List") return;
			clearTimeout(pending);
			pending = setTimeout(() => listview.refresh(), 1000);
		});
	},
};
