// The Job Monitor page: live jobs with progress bars, why waiting jobs wait, failures with their traceback,
// queue cards and charts. Realtime moves bars in place and refreshes the page when a job appears, starts or ends
// (a queued or started event arrives for every tracked job, progress or not); elapsed and relative times tick
// every second; a slow refresh runs only while the socket is down. Charts, counts and tables come from one
// response, so they always agree.
import "./time";
import "./charts";

frappe.provide("async_jobs");

const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));
const MONITOR_ROOM = "Async Jobs Settings";
const FALLBACK_REFRESH_MS = 15000;
const REFRESH_GAP_MS = 700; // events that arrive together make one refresh
const time = () => async_jobs.monitor_time;
const JOB_STATUSES = ["Scheduled", "Queued", "Started", "Retrying", "Finished", "Failed", "Timed Out", "Dead", "Cancelled", "Lost", "Held", "Expired"];

async_jobs.JobMonitor = class JobMonitor {
	constructor(wrapper) {
		this.wrapper = wrapper;
		this.page = frappe.ui.make_app_page({ parent: wrapper, title: __("Job Monitor"), single_column: true });
		this.is_manager = !!(frappe.boot.async_jobs || {}).is_manager;
		this.titles = {};
		async_jobs.current_monitor = this; // the page's one monitor (tests read its filters)
		this.make_filters();
		this.page.set_primary_action(__("Refresh"), () => this.refresh(), "refresh");
		this.$body = $(`<div class="aj-monitor">
			<div class="aj-queues row"></div>
			<div class="aj-charts row">
				<div class="col-lg-8"><div class="aj-chart aj-chart-hours"></div></div>
				<div class="col-lg-4"><div class="aj-chart aj-chart-times"></div></div>
			</div>
			<div class="aj-section aj-batches"></div>
			<div class="aj-section aj-chains"></div>
			<div class="aj-section aj-running"></div>
			<div class="aj-section aj-waiting"></div>
			<div class="aj-section aj-failed"></div>
			<div class="aj-section aj-recent"></div>
		</div>`).appendTo(this.page.main);
		this.charts = new async_jobs.MonitorCharts(this.$body.find(".aj-chart-hours"), this.$body.find(".aj-chart-times"));
		this.$body.on("click", "[data-action]", (e) => {
			const $btn = $(e.currentTarget);
			async_jobs.ui.confirm_action($btn.attr("data-action"), $btn.attr("data-job"), () => this.refresh(), {
				title: $btn.attr("data-title"),
				running: $btn.closest(".aj-running").length > 0,
			});
		});
		this.$body.on("click", ".aj-toggle-trace", (e) => $(e.currentTarget).next(".aj-trace").toggle());
		this.$body.on("click", "[data-pause-queue]", (e) => this.toggle_pause($(e.currentTarget)));
	}

	make_filters() {
		const change = () => this.refresh();
		const add = (df) => this.page.add_field({ ...df, change });
		this.filters = {
			status: add({
				fieldname: "status",
				label: __("Status"),
				fieldtype: "Select",
				options: [
					{ value: "", label: __("Any status") },
					...JOB_STATUSES.map((s) => ({ value: s, label: __(s) })),
				],
			}),
			kind: add({
				fieldname: "kind",
				label: __("Kind"),
				fieldtype: "Select",
				options: [
					{ value: "", label: __("Any kind") },
					{ value: "Tracked", label: __("Tracked (async_jobs)") },
					{ value: "Observed", label: __("Observed (Frappe, other apps)") },
				],
			}),
			job_type: add({ fieldname: "job_type", label: __("Job Type"), fieldtype: "Autocomplete", options: [] }),
			queue: add({ fieldname: "queue", label: __("Queue"), fieldtype: "Select", options: [{ value: "", label: __("Any queue") }] }),
			since_hours: add({
				fieldname: "since_hours",
				label: __("Period"),
				fieldtype: "Select",
				options: [
					{ value: "1", label: __("Last hour") },
					{ value: "24", label: __("Last 24 hours") },
					{ value: "168", label: __("Last 7 days") },
				],
				default: "24",
			}),
		};
		if (this.is_manager) {
			this.filters.owner = add({ fieldname: "owner", label: __("User"), fieldtype: "Link", options: "User" });
		}
		this.filters.since_hours.set_input("24");
	}

	args() {
		const args = {};
		for (const [key, field] of Object.entries(this.filters)) {
			const value = field.get_value();
			if (value) args[key] = value;
		}
		return args;
	}

	show() {
		async_jobs.events.subscribe("monitor", (event, data) => this.on_event(event, data));
		if (this.is_manager) frappe.realtime.doc_subscribe(MONITOR_ROOM, MONITOR_ROOM);
		clearInterval(this.fallback);
		this.fallback = setInterval(() => !async_jobs.events.connected() && this.refresh(), FALLBACK_REFRESH_MS);
		clearInterval(this.ticker);
		this.ticker = setInterval(() => this.tick(), 1000);
		this.refresh();
	}

	hide() {
		async_jobs.events.unsubscribe("monitor");
		if (this.is_manager) frappe.realtime.doc_unsubscribe(MONITOR_ROOM, MONITOR_ROOM);
		clearInterval(this.fallback);
		clearInterval(this.ticker);
		clearTimeout(this.pending);
		this.pending = null;
	}

	refresh() {
		const args = this.args();
		this.in_flight = true;
		// Only the newest request's answer is drawn: an older one that arrives later (filters changed meanwhile)
		// is dropped. frappe.call gives a jQuery promise (no .finally): a real Promise around it.
		const seq = (this.seq = (this.seq || 0) + 1);
		return Promise.resolve(frappe.call({ method: "async_jobs.api.monitor", args }))
			.then((r) => seq === this.seq && this.render(r.message))
			.finally(() => (this.in_flight = false));
	}

	// At most one refresh per REFRESH_GAP_MS however many events arrive (a steady stream still refreshes).
	refresh_soon() {
		if (this.pending) return;
		this.pending = setTimeout(() => {
			this.pending = null;
			if (this.in_flight) return this.refresh_soon();
			this.refresh();
		}, REFRESH_GAP_MS);
	}

	on_event(event, data) {
		if (event === "async_jobs:alert") return;
		if (event === "async_jobs:batch") {
			const $batch = this.$body.find(`.aj-batches tr[data-job="${CSS.escape(data.name || "")}"]`);
			if ($batch.length && ["Planning", "Running"].includes(data.status)) {
				async_jobs.ui.update_bar($batch, data.progress_percent, async_jobs.ui.batch_counts(data));
			} else {
				this.refresh_soon();
			}
			return;
		}
		const $row = this.$body.find(`.aj-running tr[data-job="${CSS.escape(data.name || "")}"]`);
		if (event === "async_jobs:progress" && $row.length && !data.status) {
			async_jobs.ui.update_bar($row, data.percent, data.message);
		} else {
			this.refresh_soon(); // a job that appeared, started, ended or waits again
		}
	}

	tick() {
		const now = time().server_now();
		this.$body.find("[data-since]").each((_, el) => {
			el.textContent = time().duration(now.diff(time().parse(el.dataset.since), "seconds"));
		});
		this.$body.find("[data-ago]").each((_, el) => {
			el.textContent = time().ago(now.diff(time().parse(el.dataset.ago), "seconds"));
		});
		this.$body.find("[data-until]").each((_, el) => {
			const left = time().parse(el.dataset.until).diff(now, "seconds");
			el.textContent = left > 0 ? __("in {0}", [time().duration(left)]) : __("due now");
		});
	}

	render(data) {
		if (!data) return;
		time().sync(data.now);
		this.remember_suggestions(data.suggestions || {});
		const totals = data.totals || {};
		const limits = data.limits || {};
		this.render_queues(data.queues || []);
		this.charts.render(data.charts, data.since, data.now);
		this.render_table(".aj-batches", __("Batches"), data.batches, null, [
			[__("Batch"), (b) => `<a href="/app/async-job-batch/${encodeURIComponent(b.name)}">${esc(b.title)}</a>
				<div class="small text-muted">${esc(b.name)} · ${esc(this.title_of(b.job_type))}</div>`],
			[__("Progress"), (b) => async_jobs.ui.bar(b.progress_percent, async_jobs.ui.batch_counts(b))],
			[__("Status"), (b) => async_jobs.ui.indicator(b.status)],
			[__("Started"), (b) => this.ago(b.started_at)],
			["", (b) => this.action_button("cancel_batch", b, __("Cancel"))],
		]);
		this.render_table(".aj-chains", __("Chains"), data.chains, null, [
			[__("Chain"), (c) => `<a href="/app/async-job/${encodeURIComponent(c.first)}">${esc(c.title)}</a>
				<div class="small text-muted">${esc(c.name)} · ${esc(__("{0} of {1} steps ended", [c.ended, c.steps.length]))}</div>`],
			[__("Steps"), (c) => `<div class="aj-chain-steps">${c.steps.map((s) => this.chain_step(s)).join('<span class="text-muted"> → </span>')}</div>`],
			[__("Status"), (c) => async_jobs.ui.indicator(c.status)],
			[__("Started"), (c) => this.ago(c.started_at)],
		]);
		this.render_table(".aj-running", __("Running"), data.running, [totals.running, limits.running], [
			[__("Job"), (j) => this.job_link(j)],
			[__("Progress"), (j) => async_jobs.ui.bar(j.progress_percent, j.progress_message)],
			[__("Worker"), (j) => `<span class="aj-worker" title="${esc(j.worker)}">${esc(j.worker_where)}</span>`],
			[__("Started"), (j) => this.ago(j.started_at)],
			["", (j) => this.action_button("cancel", j, __("Cancel"))],
		]);
		this.render_table(".aj-waiting", __("Waiting"), data.waiting, [totals.waiting, limits.waiting], [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Waiting for"), (j) =>
				j.waiting_since
					? `<span class="aj-waited" data-since="${esc(j.waiting_since)}">${esc(time().duration(time().since(j.waiting_since)))}</span>`
					: `<span class="aj-waited text-muted">${__("not due yet")}</span>`],
			[__("Why"), (j) => `<span class="aj-why">${this.why(j)}</span>`],
			["", (j) => this.action_button("cancel", j, __("Cancel"))],
		]);
		const failed_list = "status=" + encodeURIComponent(JSON.stringify(["in", ["Failed", "Timed Out", "Dead", "Lost", "Expired"]]));
		this.render_table(".aj-failed", __("Failures"), data.failed, [totals.failed, limits.failed], [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Error"), (j) => this.error_cell(j)],
			[__("Attempts"), (j) => esc(j.attempts)],
			[__("Ended"), (j) => this.ago(j.ended_at)],
			["", (j) => this.action_button("retry", j, __("Retry"))],
		], failed_list);
		this.render_table(".aj-recent", __("Recently ended"), data.recent, [totals.recent, limits.recent], [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Waited"), (j) => esc(async_jobs.ui.seconds(j.wait_seconds))],
			[__("Ran"), (j) => esc(async_jobs.ui.seconds(j.run_seconds))],
			[__("Ended"), (j) => this.ago(j.ended_at)],
		], "");
	}

	chain_step(step) {
		const color = async_jobs.ui.STATUS_COLORS[step.status] || "gray";
		const title = `${step.step}. ${this.title_of(step.job_type)}: ${__(step.status)}${step.error ? " — " + step.error : ""}`;
		return `<a class="aj-chain-step indicator-pill ${color}" data-job="${esc(step.name)}" data-status="${esc(step.status)}"
			href="/app/async-job/${encodeURIComponent(step.name)}" title="${esc(title)}">${esc(step.step)}</a>`;
	}

	remember_suggestions(suggestions) {
		for (const t of suggestions.job_types || []) if (t.label !== t.value) this.titles[t.value] = t.label;
		const key = JSON.stringify(suggestions);
		if (key === this.suggestions_key) return;
		this.suggestions_key = key;
		this.filters.job_type.set_data(suggestions.job_types || []);
		const queue = this.filters.queue;
		const current = queue.get_value();
		queue.df.options = [{ value: "", label: __("Any queue") }, ...(suggestions.queues || []).map((q) => ({ value: q, label: q }))];
		queue.set_options(current);
	}

	title_of(job_type) {
		return this.titles[job_type] || async_jobs.ui.job_title(job_type);
	}

	why(job) {
		if (!job.why_until) return esc(job.why);
		const until = `<span class="aj-until-at">${esc(time().user_time(job.why_until))}</span>`;
		const text =
			job.status === "Retrying"
				? __("Retrying after a failed attempt at {0}", [until])
				: __("Delayed until {0}", [until]);
		const left = time().parse(job.why_until).diff(time().server_now(), "seconds");
		return `${text} · <span data-until="${esc(job.why_until)}">${esc(__("in {0}", [time().duration(left)]))}</span>`;
	}

	ago(when) {
		if (!when) return "";
		return `<span data-ago="${esc(when)}" title="${esc(time().user_time(when))}">${esc(time().ago(time().since(when)))}</span>`;
	}

	job_link(job) {
		const who = this.is_manager ? ` · ${esc(job.owner)}` : "";
		const title = this.title_of(job.job_type);
		const path = title !== job.job_type ? `<div class="small text-muted text-truncate" title="${esc(job.job_type)}">${esc(job.job_type)}</div>` : "";
		const observed = job.kind === "Observed" ? ` · <span class="aj-kind">${__("observed")}</span>` : "";
		return `<a href="/app/async-job/${encodeURIComponent(job.name)}">${esc(title)}</a>${path}
			<div class="small text-muted">${esc(job.name)} · ${esc(job.queue)}${observed}${who}</div>`;
	}

	action_button(action, job, label) {
		if (job.kind === "Observed") return ""; // Frappe's own jobs: async_jobs neither cancels nor retries them
		const title = this.title_of(job.job_type);
		return `<button class="btn btn-xs btn-default" data-action="${action}" data-job="${esc(job.name)}"
			data-title="${esc(title)}">${label}</button>`;
	}

	error_cell(job) {
		const trace = job.traceback
			? `<a class="aj-toggle-trace small">${__("Traceback")}</a><pre class="aj-trace small" style="display:none">${esc(job.traceback)}</pre>`
			: "";
		return `<div class="text-danger">${esc(job.error)}</div>${trace}`;
	}

	// `counted`: [total, limit] — a section capped at its limit says it shows the latest `limit` of `total`.
	render_table(selector, title, jobs, counted, columns, list_filter) {
		const $section = this.$body.find(selector);
		jobs = jobs || [];
		const [total, limit] = counted || [jobs.length, null];
		const count =
			limit && jobs.length >= limit && total > jobs.length
				? __("latest {0} of {1}", [jobs.length, total])
				: limit && jobs.length >= limit
					? __("latest {0}", [jobs.length])
					: String(jobs.length);
		const head = columns.map(([label]) => `<th>${label}</th>`).join("");
		const more = list_filter != null
			? ` <a class="small" href="/app/async-job${list_filter ? "?" + list_filter : ""}">${__("All in the list")}</a>`
			: "";
		const rows = jobs
			.map((job) => `<tr data-job="${esc(job.name)}">${columns.map(([, cell]) => `<td>${cell(job)}</td>`).join("")}</tr>`)
			.join("");
		$section.html(`<h5 class="mt-4">${title} <span class="aj-count text-muted">(${esc(count)})</span>${more}</h5>
			${rows ? `<div class="table-responsive"><table class="table table-sm aj-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>`
				: `<div class="text-muted small">${__("None")}</div>`}`);
	}

	render_queues(queues) {
		const rq_list = frappe.user.has_role("System Manager");
		const cards = queues
			.map((q) => {
				const others = q.untracked
					? `<div class="aj-untracked small text-muted">${__(
						"{0} of them not tracked here: plain frappe.enqueue jobs, or another site's",
						[esc(q.untracked)]
					)}${rq_list ? ` · <a href="/app/rq-job?queue=${encodeURIComponent(q.queue)}&status=queued">${__("RQ Jobs")}</a>` : ""}</div>`
					: "";
				return `<div class="col-lg-3 col-md-4 col-sm-6"><div class="aj-queue-card border rounded p-3 mb-3" data-queue="${esc(q.queue)}">
					<div class="text-muted small">${__("Queue")}</div><h5>${esc(q.queue)}</h5>
					<div>${__("Waiting in RQ")}: <b class="aj-depth">${esc(q.depth)}</b></div>${others}
					<div>${__("Oldest tracked wait")}: <b>${esc(async_jobs.ui.seconds(q.oldest_wait))}</b></div>
					<div>${__("Workers")}: <b>${esc(q.workers)}</b> (${__("{0} busy", [esc(q.busy)])})</div>
					${q.workers ? "" : `<div class="text-danger small">${__("No worker listens on this queue")}</div>`}
					${this.pause_control(q)}
				</div></div>`;
			})
			.join("");
		this.$body.find(".aj-queues").html(cards);
	}

	pause_control(q) {
		// Pause / Resume a queue of the bench (managers; the server checks): no job of it starts while paused.
		const since = q.paused && q.paused_since ? frappe.datetime.comment_when(q.paused_since) : "";
		const state = q.paused
			? `<div class="text-warning small aj-paused">${__("Paused by {0}", [esc(q.paused_by)])} ${since}</div>`
			: "";
		const label = q.paused ? __("Resume") : __("Pause");
		return `${state}<button class="btn btn-xs btn-default mt-2" data-pause-queue="${esc(q.queue)}"
			data-paused="${q.paused ? 1 : 0}">${label}</button>`;
	}

	toggle_pause($btn) {
		const queue = $btn.attr("data-pause-queue");
		const resume = $btn.attr("data-paused") === "1";
		const question = resume
			? __("Resume queue {0}? Its waiting jobs start again.", [esc(queue)])
			: __("Pause queue {0}? None of its jobs starts until it is resumed; waiting jobs keep their place.", [esc(queue)]);
		frappe.confirm(question, () =>
			frappe
				.call({ method: `async_jobs.api.${resume ? "resume_queue" : "pause_queue"}`, args: { queue } })
				.then(() => this.refresh())
		);
	}
};
