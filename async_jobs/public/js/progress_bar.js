// Small helpers shared by the monitor, the list and the forms.
frappe.provide("async_jobs.ui");

async_jobs.ui.STATUS_COLORS = {
	Scheduled: "blue",
	Queued: "gray",
	Started: "orange",
	Retrying: "yellow",
	Finished: "green",
	Failed: "red",
	"Timed Out": "red",
	Dead: "red",
	Cancelled: "gray",
	Lost: "red",
	Held: "purple", // waiting for a concurrency slot, or for its queue to drain
	Expired: "red",
	Planning: "blue", // batches
	Running: "orange",
};

async_jobs.ui.indicator = (status) =>
	`<span class="indicator-pill ${async_jobs.ui.STATUS_COLORS[status] || "gray"}">${__(status)}</span>`;

async_jobs.ui.bar = (percent, message) => {
	const value = Math.max(0, Math.min(100, Number(percent) || 0));
	const text = frappe.utils.escape_html(message || "");
	return `<div class="aj-progress" data-percent="${value}" title="${text}">
		<div class="progress" style="height: 8px; margin: 2px 0;">
			<div class="progress-bar" role="progressbar" style="width: ${value}%"
				aria-valuenow="${value}" aria-valuemin="0" aria-valuemax="100"></div>
		</div>
		<div class="small text-muted"><span class="aj-percent">${value.toFixed(0)}%</span><span class="aj-separator">${text ? " · " : ""}</span><span class="aj-message">${text}</span></div>
	</div>`;
};

async_jobs.ui.update_bar = ($container, percent, message) => {
	const value = Math.max(0, Math.min(100, Number(percent) || 0));
	const $bar = $container.find(".aj-progress");
	$bar.attr("data-percent", value);
	$bar.find(".progress-bar").css("width", `${value}%`).attr("aria-valuenow", value);
	$bar.find(".aj-percent").text(`${value.toFixed(0)}%`);
	if (message != null) {
		$bar.find(".aj-message").text(message);
		$bar.find(".aj-separator").text(message ? " · " : "");
	}
};

// What people call a job: its job type's label (frappe.boot.async_jobs.titles), else its function's name
// ("myapp.stock.rebuild_ledger" → "Rebuild Ledger"), else its name.
async_jobs.ui.job_title = (job_type, name) => {
	const titles = (frappe.boot.async_jobs || {}).titles || {};
	if (job_type && titles[job_type]) return titles[job_type];
	if (job_type && job_type.includes(".")) return frappe.unscrub(job_type.split(".").pop());
	return job_type || name || "";
};

// A bar in a form's dashboard. Frappe inserts a bar's title and its first message as HTML: job-written text (a
// progress message, a batch title) must not become markup. The title goes in escaped (it is the bar's key, too);
// the message only ever as text (once the bar exists, show_progress sets its message with .text()).
async_jobs.ui.show_form_bar = (frm, title, percent, message) => {
	const key = frappe.utils.escape_html(title || "");
	frm.dashboard.show_progress(key, percent || 0, "");
	frm.dashboard.show_progress(key, percent || 0, message == null ? "" : String(message));
};

// Frappe's hide_progress throws for a bar it never drew (an event that arrives after the end, or twice).
async_jobs.ui.hide_form_bar = (frm, title) => {
	const key = frappe.utils.escape_html(title || "");
	if ((frm.dashboard._progress_map || {})[key]) frm.dashboard.hide_progress(key);
};

async_jobs.ui.batch_counts = (b) =>
	__("{0} of {1} ended · {2} failed", [b.ended || 0, b.total || 0, b.failed || 0]) +
	(b.status === "Planning" ? ` · ${__("planning")}` : "");

async_jobs.ui.seconds = (s) => {
	if (s == null) return "–";
	s = Number(s);
	if (s < 60) return `${s.toFixed(1)} s`;
	if (s < 3600) return `${(s / 60).toFixed(1)} min`;
	return `${(s / 3600).toFixed(1)} h`;
};

// `what`: {title: the job's title, running: whether it runs now} for the texts, when the caller knows them.
async_jobs.ui.confirm_action = (action, name, done, what = {}) => {
	const job = what.title ? `${what.title} (${name})` : name;
	const labels = {
		cancel: __("Cancel job {0}?", [job]),
		retry: __("Retry job {0}?", [job]),
		cancel_batch: __("Cancel batch {0}? Waiting jobs are cancelled, running ones asked to stop.", [name]),
		retry_batch: __("Retry the failed jobs of batch {0}?", [name]),
	};
	frappe.confirm(labels[action], () =>
		frappe.call({
			method: `async_jobs.api.${action}`,
			args: { name },
			freeze: true,
			callback: (r) => {
				const status = r.message.status;
				const asked = action === "cancel" && (status === "Started" || r.message.cancel_requested);
				const text = asked
					? __("Job {0}: asked to stop", [job])
					: action.endsWith("_batch")
						? __("Batch {0}: {1}", [name, __(status)])
						: __("Job {0}: {1}", [job, __(status)]);
				frappe.show_alert({ message: frappe.utils.escape_html(text), indicator: "blue" });
				done && done(r.message);
			},
		})
	);
};
