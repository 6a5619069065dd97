// Async Job form: status, the error near the top, live progress (the bar and the Progress fields agree), the attempt
// log and the retry policy as tables, cancel / retry where they apply (confirmed; the server checks who may).
const ASYNC_JOB_WAITING = ["Scheduled", "Queued", "Retrying", "Held"];
const ASYNC_JOB_RETRYABLE = ["Failed", "Timed Out", "Dead", "Cancelled", "Lost", "Expired"];
const ASYNC_JOB_FAILED = ["Failed", "Timed Out", "Dead", "Lost", "Expired"];
const ASYNC_JOB_TEXT = ["error", "progress_message", "dedup_key", "job_type", "method", "worker"]; // job-written


frappe.ui.form.on("Async Job", {
	onload(frm) {
		async_jobs.ui.show_as_text(frm, ASYNC_JOB_TEXT);
	},
	refresh(frm) {
		async_jobs.ui.show_as_text(frm, ASYNC_JOB_TEXT);
		frm.disable_save();
		const status = frm.doc.status;
		frm.page.set_indicator(__(status), async_jobs.ui.STATUS_COLORS[status] || "gray");
		if ([...ASYNC_JOB_WAITING, "Started"].includes(status)) {
			frm.add_custom_button(__("Cancel"), () => async_jobs.ui.confirm_action("cancel", frm.doc.name, () => frm.reload_doc()), __("Actions"));
		}
		if (ASYNC_JOB_RETRYABLE.includes(status)) {
			frm.add_custom_button(__("Retry"), () => async_jobs.ui.confirm_action("retry", frm.doc.name, () => frm.reload_doc()), __("Actions"));
		}
		if (frm.doc.error_log) {
			frm.add_custom_button(__("Error Log"), () => frappe.set_route("Form", "Error Log", frm.doc.error_log));
		}
		if (frm.doc.chain) {
			frm.add_custom_button(__("Chain Steps"), () => frappe.set_route("List", "Async Job", { chain: frm.doc.chain }));
		}
		if (frm.doc.schedule) {
			frm.add_custom_button(__("Schedule"), () => frappe.set_route("Form", "Async Job Schedule", frm.doc.schedule));
		}
		if (ASYNC_JOB_FAILED.includes(status) && frm.doc.error) {
			const first_line = String(frm.doc.error).split("\n")[0];
			frm.dashboard.set_headline(
				`<span class="aj-headline-error">${frappe.utils.escape_html(__("{0}: {1}", [__(status), first_line]))}</span>`,
				"red"
			);
		} else {
			frm.dashboard.clear_headline();
		}
		const redacted = (frm.doc.__onload || {}).redacted;
		frm.set_df_property("arguments", "description", redacted ? __("Secrets redacted") : "");
		render_attempts(frm);
		render_policy(frm);
		if (status === "Started") {
			show_progress(frm, frm.doc.progress_percent, frm.doc.progress_done, frm.doc.progress_total, frm.doc.progress_message);
		}
		if ((frappe.boot.async_jobs || {}).is_manager) frappe.realtime.doc_subscribe("Async Jobs Settings", "Async Jobs Settings");
		async_jobs.events.subscribe("form:Async Job", (event, data) => {
			if (data.name !== frm.doc.name) return;
			if (event === "async_jobs:progress" && !data.status) {
				show_progress(frm, data.percent, data.done, data.total, data.message);
			} else {
				frm.reload_doc();
			}
		});
	},
});

// The bar on top and the Progress fields show the same event: both change together, without marking the form dirty.
function show_progress(frm, percent, done, total, message) {
	async_jobs.ui.show_form_bar(frm, __("Progress"), percent, message);
	const values = { progress_percent: percent, progress_done: done, progress_total: total };
	if (message != null) values.progress_message = message;
	for (const [field, value] of Object.entries(values)) {
		if (value == null || frm.doc[field] === value) continue;
		frm.doc[field] = value;
		frm.refresh_field(field);
	}
}

function parse_json(text, fallback) {
	try {
		return text ? JSON.parse(text) : fallback;
	} catch (e) {
		return fallback;
	}
}

// "2026-12-02 02:22:16.886161" → the user's date and time format, to the second
function when(value) {
	if (!value || value === "None") return "–";
	return frappe.datetime.str_to_user(String(value).split(".")[0]);
}

function text_cell(value) {
	return `<td class="aj-text">${frappe.utils.escape_html(value == null ? "" : String(value))}</td>`;
}

function render_attempts(frm) {
	const field = frm.get_field("attempt_log_html");
	const log = parse_json(frm.doc.attempt_log, []);
	if (!field) return;
	if (!Array.isArray(log) || !log.length) {
		field.$wrapper.html(`<p class="text-muted small">${__("No attempt has ended yet.")}</p>`);
		return;
	}
	const rows = log
		.map((entry) => {
			const start = entry.started_at && entry.started_at !== "None" ? frappe.datetime.str_to_obj(entry.started_at) : null;
			const end = entry.ended_at ? frappe.datetime.str_to_obj(entry.ended_at) : null;
			const seconds = start && end ? (end - start) / 1000 : null;
			const status = entry.status || "";
			return `<tr data-attempt="${cint(entry.attempt)}">
				<td>${cint(entry.attempt)}</td>
				${text_cell(entry.worker || "–")}
				<td>${when(entry.started_at)}</td>
				<td>${when(entry.ended_at)}</td>
				<td>${seconds == null ? "–" : async_jobs.ui.seconds(seconds)}</td>
				<td>${async_jobs.ui.indicator(status)}</td>
				${text_cell(entry.error || "")}
			</tr>`;
		})
		.join("");
	field.$wrapper.html(`<div class="aj-attempt-log">
		<label class="control-label">${__("Attempt Log")}</label>
		<table class="table table-bordered table-sm small">
			<thead><tr>
				<th>${__("Attempt")}</th><th>${__("Worker")}</th><th>${__("Started")}</th><th>${__("Ended")}</th>
				<th>${__("Duration")}</th><th>${__("Outcome")}</th><th>${__("Error")}</th>
			</tr></thead>
			<tbody>${rows}</tbody>
		</table>
		<style>.aj-attempt-log td.aj-text, .aj-retry-policy td.aj-text { white-space: pre-wrap; word-break: break-word; }</style>
	</div>`);
}

function render_policy(frm) {
	const field = frm.get_field("retry_policy_html");
	const policy = parse_json(frm.doc.retry_policy, null);
	if (!field) return;
	if (!policy || typeof policy !== "object") {
		field.$wrapper.html(`<p class="text-muted small">${__("No retries: a failure ends the job.")}</p>`);
		return;
	}
	const list = (value) => (Array.isArray(value) && value.length ? value.join(", ") : __("none"));
	const rows = [
		[__("Attempts in all"), policy.max_attempts],
		[__("Wait before the first retry"), async_jobs.ui.seconds(policy.base)],
		[__("Each wait grows by a factor of"), policy.factor],
		[__("Longest wait"), async_jobs.ui.seconds(policy.max_delay)],
		[__("Random variation of each wait"), `± ${Math.round((policy.jitter || 0) * 100)}%`],
		[__("Retried only after"), Array.isArray(policy.retry_on) && policy.retry_on.length ? list(policy.retry_on) : __("any error but those below")],
		[__("Never retried after"), list(policy.no_retry_on)],
		[__("Timeouts are retried"), policy.retry_timeouts ? __("Yes") : __("No")],
	];
	field.$wrapper.html(`<div class="aj-retry-policy">
		<label class="control-label">${__("Retry Policy")}</label>
		<table class="table table-bordered table-sm small" style="max-width: 700px">
			<tbody>${rows.map(([label, value]) => `<tr><th style="width: 45%">${label}</th>${text_cell(value)}</tr>`).join("")}</tbody>
		</table>
	</div>`);
}
