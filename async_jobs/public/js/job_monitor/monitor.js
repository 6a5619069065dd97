// The Job Monitor page: live jobs with progress bars, why waiting jobs wait, failures with their traceback,
// queue cards and charts. Realtime updates bars in place; a slow refresh runs only while the socket is down.
frappe.provide("async_jobs");

const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));
const MONITOR_ROOM = "Async Jobs Settings";
const FALLBACK_REFRESH_MS = 15000;

async_jobs.JobMonitor = class JobMonitor {
	constructor(wrapper) {
		this.wrapper = wrapper;
		this.page = frappe.ui.make_app_page({ parent: wrapper, title: __("Job Monitor"), single_column: true });
		this.is_manager = !!(frappe.boot.async_jobs || {}).is_manager;
		this.make_filters();
		this.page.set_primary_action(__("Refresh"), () => this.refresh(), "refresh");
		this.$body = $(`<div class="aj-monitor">
			<div class="aj-queues row"></div>
			<div class="aj-charts row">
				<div class="col-md-8"><div class="aj-chart-hours"></div></div>
				<div class="col-md-4"><div class="aj-chart-times"></div></div>
			</div>
			<div class="aj-section aj-batches"></div>
			<div class="aj-section aj-running"></div>
			<div class="aj-section aj-waiting"></div>
			<div class="aj-section aj-failed"></div>
			<div class="aj-section aj-recent"></div>
		</div>`).appendTo(this.page.main);
		this.$body.on("click", "[data-action]", (e) => {
			const $btn = $(e.currentTarget);
			async_jobs.ui.confirm_action($btn.attr("data-action"), $btn.attr("data-job"), () => this.refresh());
		});
		this.$body.on("click", ".aj-toggle-trace", (e) => $(e.currentTarget).next(".aj-trace").toggle());
		this.$body.on("click", "[data-pause-queue]", (e) => this.toggle_pause($(e.currentTarget)));
	}

	make_filters() {
		const change = () => this.refresh();
		this.filters = {
			status: this.page.add_select(__("Status"), [
				{ value: "", label: __("Any status") },
				...Object.keys(async_jobs.ui.STATUS_COLORS).map((s) => ({ value: s, label: __(s) })),
			]),
			job_type: this.page.add_data(__("Job Type")),
			queue: this.page.add_data(__("Queue")),
			since_hours: this.page.add_select(__("Period"), [
				{ value: "1", label: __("Last hour") },
				{ value: "24", label: __("Last 24 hours") },
				{ value: "168", label: __("Last 7 days") },
			]),
		};
		if (this.is_manager) {
			this.filters.owner = this.page.add_field({
				fieldname: "owner", label: __("User"), fieldtype: "Link", options: "User", change,
			}).$input;
		}
		this.filters.since_hours.val("24");
		for (const $input of Object.values(this.filters)) $input.on("change", change);
	}

	args() {
		const args = {};
		for (const [key, $input] of Object.entries(this.filters)) {
			const value = $input.val();
			if (value) args[key] = value;
		}
		return args;
	}

	show() {
		async_jobs.events.subscribe("monitor", (event, data) => this.on_event(event, data));
		if (this.is_manager) frappe.realtime.doc_subscribe(MONITOR_ROOM, MONITOR_ROOM);
		clearInterval(this.fallback);
		this.fallback = setInterval(() => !async_jobs.events.connected() && this.refresh(), FALLBACK_REFRESH_MS);
		this.refresh();
	}

	hide() {
		async_jobs.events.unsubscribe("monitor");
		if (this.is_manager) frappe.realtime.doc_unsubscribe(MONITOR_ROOM, MONITOR_ROOM);
		clearInterval(this.fallback);
		clearTimeout(this.pending);
	}

	refresh() {
		return frappe.call({ method: "async_jobs.api.monitor", args: this.args() }).then((r) => this.render(r.message));
	}

	refresh_soon() {
		clearTimeout(this.pending);
		this.pending = setTimeout(() => this.refresh(), 800);
	}

	on_event(event, data) {
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
			this.refresh_soon(); // a job this page does not show yet, or one that changed state
		}
	}

	render(data) {
		if (!data) return;
		this.render_queues(data.queues || []);
		this.render_charts(data.charts);
		this.render_table(".aj-batches", __("Batches"), data.batches, [
			[__("Batch"), (b) => `<a href="/app/async-job-batch/${encodeURIComponent(b.name)}">${esc(b.title)}</a>
				<div class="small text-muted">${esc(b.name)} · ${esc(b.job_type)}</div>`],
			[__("Progress"), (b) => async_jobs.ui.bar(b.progress_percent, async_jobs.ui.batch_counts(b))],
			[__("Status"), (b) => async_jobs.ui.indicator(b.status)],
			[__("Started"), (b) => frappe.datetime.comment_when(b.started_at)],
			[__(""), (b) => this.action_button("cancel_batch", b, __("Cancel"))],
		], "");
		this.render_table(".aj-running", __("Running"), data.running, [
			[__("Job"), (j) => this.job_link(j)],
			[__("Progress"), (j) => async_jobs.ui.bar(j.progress_percent, j.progress_message)],
			[__("Worker"), (j) => `${esc(j.worker_where)}<div class="small text-muted">${esc(j.worker)}</div>`],
			[__("Started"), (j) => frappe.datetime.comment_when(j.started_at)],
			[__(""), (j) => this.action_button("cancel", j, __("Cancel"))],
		]);
		this.render_table(".aj-waiting", __("Waiting"), data.waiting, [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Waiting for"), (j) => esc(async_jobs.ui.seconds(j.waited_seconds))],
			[__("Why"), (j) => `<span class="aj-why">${esc(j.why)}</span>`],
			[__(""), (j) => this.action_button("cancel", j, __("Cancel"))],
		]);
		this.render_table(".aj-failed", __("Failures"), data.failed, [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Error"), (j) => this.error_cell(j)],
			[__("Attempts"), (j) => esc(j.attempts)],
			[__(""), (j) => this.action_button("retry", j, __("Retry"))],
		], "status=" + encodeURIComponent(JSON.stringify(["in", ["Failed", "Timed Out", "Dead", "Lost"]])));
		this.render_table(".aj-recent", __("Recently ended"), data.recent, [
			[__("Job"), (j) => this.job_link(j)],
			[__("Status"), (j) => async_jobs.ui.indicator(j.status)],
			[__("Waited"), (j) => esc(async_jobs.ui.seconds(j.wait_seconds))],
			[__("Ran"), (j) => esc(async_jobs.ui.seconds(j.run_seconds))],
			[__("Ended"), (j) => (j.ended_at ? frappe.datetime.comment_when(j.ended_at) : "")],
		], "");
	}

	job_link(job) {
		const who = this.is_manager ? `<div class="small text-muted">${esc(job.owner)}</div>` : "";
		return `<a href="/app/async-job/${encodeURIComponent(job.name)}">${esc(job.job_type)}</a>
			<div class="small text-muted">${esc(job.name)} · ${esc(job.queue)}</div>${who}`;
	}

	action_button(action, job, label) {
		return `<button class="btn btn-xs btn-default" data-action="${action}" data-job="${esc(job.name)}">${label}</button>`;
	}

	error_cell(job) {
		const trace = job.traceback
			? `<a class="aj-toggle-trace small">${__("Traceback")}</a><pre class="aj-trace small" style="display:none">${esc(job.traceback)}</pre>`
			: "";
		return `<div class="text-danger">${esc(job.error)}</div>${trace}`;
	}

	render_table(selector, title, jobs, columns, list_filter) {
		const $section = this.$body.find(selector);
		const head = columns.map(([label]) => `<th>${label}</th>`).join("");
		const more = list_filter
			? ` <a class="small" href="/app/async-job?${list_filter}">${__("All in the list")}</a>`
			: "";
		const rows = (jobs || [])
			.map((job) => `<tr data-job="${esc(job.name)}">${columns.map(([, cell]) => `<td>${cell(job)}</td>`).join("")}</tr>`)
			.join("");
		$section.html(`<h5 class="mt-4">${title} <span class="text-muted">(${(jobs || []).length})</span>${more}</h5>
			${rows ? `<table class="table table-sm aj-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`
				: `<div class="text-muted small">${__("None")}</div>`}`);
	}

	render_queues(queues) {
		const cards = queues
			.map(
				(q) => `<div class="col-md-3 col-sm-6"><div class="aj-queue-card border rounded p-3 mb-3" data-queue="${esc(q.queue)}">
					<div class="text-muted small">${__("Queue")}</div><h5>${esc(q.queue)}</h5>
					<div>${__("Waiting")}: <b>${esc(q.depth)}</b></div>
					<div>${__("Oldest wait")}: <b>${esc(async_jobs.ui.seconds(q.oldest_wait))}</b></div>
					<div>${__("Workers")}: <b>${esc(q.workers)}</b> (${__("{0} busy", [esc(q.busy)])})</div>
					${q.workers ? "" : `<div class="text-danger small">${__("No worker listens on this queue")}</div>`}
					${this.pause_control(q)}
				</div></div>`
			)
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

	render_charts(charts) {
		if (!charts) return;
		const value = (v) => (v == null ? 0 : v);
		const hours = {
			labels: charts.hours,
			datasets: [
				{ name: __("Jobs"), values: charts.jobs },
				{ name: __("Failures"), values: charts.failures },
			],
		};
		const times = {
			labels: [__("Wait"), __("Run")],
			datasets: [
				{ name: "p50", values: [value(charts.wait.p50), value(charts.run.p50)] },
				{ name: "p95", values: [value(charts.wait.p95), value(charts.run.p95)] },
			],
		};
		const key = JSON.stringify([hours, times]);
		if (key === this.charts_key) return; // unchanged: no redraw (and no animation from zero)
		this.charts_key = key;
		if (this.hours_chart) {
			this.hours_chart.update(hours);
			this.times_chart.update(times);
			return;
		}
		this.hours_chart = new frappe.Chart(this.$body.find(".aj-chart-hours")[0], {
			title: __("Jobs and failures per hour"),
			type: "bar",
			height: 220,
			colors: ["blue", "red"],
			data: hours,
		});
		this.times_chart = new frappe.Chart(this.$body.find(".aj-chart-times")[0], {
			title: __("Wait and run time (s), p50 and p95 of {0} finished jobs", [charts.sample]),
			type: "bar",
			height: 220,
			colors: ["light-blue", "blue"],
			data: times,
		});
	}
};
