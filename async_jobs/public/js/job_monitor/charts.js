// The Job Monitor's two charts, drawn from the same response as its tables: jobs and failures per bucket of the
// period (5 minutes over an hour, hours over a day, days over a week), and p50 / p95 of wait and run time. Labels
// are in the user's time zone and never cut (frappe-charts skips labels rather than shortening them when
// xIsSeries is set); an empty period says so instead of drawing empty axes.
frappe.provide("async_jobs");

const esc = (value) => frappe.utils.escape_html(value == null ? "" : String(value));
const EMPTY_STYLE =
	"height: 200px; display: flex; align-items: center; justify-content: center;" +
	" border: 1px dashed var(--border-color); border-radius: var(--border-radius-md); margin-top: 8px;";
const PER = { "5min": __("per 5 minutes"), hour: __("per hour"), day: __("per day") };

async_jobs.MonitorCharts = class MonitorCharts {
	constructor($hours, $times) {
		this.$hours = $hours;
		this.$times = $times;
	}

	render(charts, since, now) {
		if (!charts) return;
		const key = JSON.stringify(charts);
		if (key === this.key) return; // unchanged: no redraw
		this.key = key;
		this.render_buckets(charts, now);
		this.render_times(charts);
	}

	labels(charts) {
		const time = async_jobs.monitor_time;
		const full = {};
		let last_day = null;
		const labels = charts.starts.map((start) => {
			const m = time.to_user(start);
			let label;
			if (charts.bucket === "day") {
				label = m.format("D MMM");
				full[label] = m.format("ddd D MMM YYYY");
			} else {
				const day = m.format("D MMM");
				label = day !== last_day ? `${day} ${m.format("HH:mm")}` : m.format("HH:mm");
				last_day = day;
				full[label] = `${m.format("ddd D MMM")} ${m.format("HH:mm")}`;
			}
			return label;
		});
		return { labels, full };
	}

	// The chart's header and its body: a new frappe.Chart when the buckets change, else update() in place (the
	// bars move from their old heights instead of redrawing from zero on every live refresh).
	draw(which, $container, header, empty_text, shape, options) {
		let $head = $container.find(".aj-chart-title");
		if (!$head.length) {
			$container.html(`<div class="aj-chart-title"></div><div class="aj-chart-body"></div>`);
			$head = $container.find(".aj-chart-title");
		}
		$head.html(header);
		const $body = $container.find(".aj-chart-body");
		if (empty_text) {
			this[which] = null;
			$body.html(`<div class="aj-chart-empty text-muted" style="${EMPTY_STYLE}">${esc(empty_text)}</div>`);
			return;
		}
		if (this[which] && this[which + "_shape"] === shape) {
			this[which].update(options.data);
			return;
		}
		$body.empty();
		this[which + "_shape"] = shape;
		this[which] = new frappe.Chart($body[0], options);
	}

	render_buckets(charts, now) {
		const time = async_jobs.monitor_time;
		const first = time.to_user(charts.starts[0]);
		const range = `${first.format("ddd D MMM HH:mm")} – ${time.to_user(now).format("ddd D MMM HH:mm")}`;
		const total = charts.jobs.reduce((a, b) => a + b, 0);
		const failures = charts.failures.reduce((a, b) => a + b, 0);
		const title = __("Jobs and failures {0}", [PER[charts.bucket] || ""]);
		const header = `<b>${esc(title)}</b> <span class="text-muted small">${esc(range)}</span>
			<span class="aj-chart-total text-muted small">· ${esc(__("{0} jobs, {1} failed", [total, failures]))}</span>`;
		const { labels, full } = this.labels(charts);
		this.full_labels = full;
		this.draw("hours_chart", this.$hours, header, total ? null : __("No jobs in this period"), JSON.stringify(labels), {
			type: "bar",
			height: 200,
			colors: ["blue", "red"],
			axisOptions: { xIsSeries: 1, xAxisMode: "tick" },
			barOptions: { spaceRatio: 0.3 },
			tooltipOptions: { formatTooltipX: (label) => this.full_labels[label] || label },
			data: {
				labels,
				datasets: [
					{ name: __("Jobs"), values: charts.jobs },
					{ name: __("Failures"), values: charts.failures },
				],
			},
		});
	}

	render_times(charts) {
		const of = charts.sample_status === "Finished" ? __("finished") : __(charts.sample_status);
		const note = charts.sample
			? __("p50 and p95 of the newest {0} {1} jobs", [charts.sample, of])
			: __("p50 and p95");
		const header = `<b>${esc(__("Wait and run time"))}</b> <span class="aj-times-note text-muted small">${esc(note)}</span>`;
		const value = (v) => (v == null ? 0 : v);
		const empty = charts.sample ? null : __("No {0} jobs in this period", [of]);
		this.draw("times_chart", this.$times, header, empty, "wait-run", {
			type: "bar",
			height: 200,
			colors: ["light-blue", "blue"],
			barOptions: { spaceRatio: 0.3 },
			tooltipOptions: { formatTooltipY: (v) => async_jobs.ui.seconds(v) },
			data: {
				labels: [__("Wait"), __("Run")],
				datasets: [
					{ name: "p50", values: [value(charts.wait.p50), value(charts.run.p50)] },
					{ name: "p95", values: [value(charts.wait.p95), value(charts.run.p95)] },
				],
			},
		});
	}
};
