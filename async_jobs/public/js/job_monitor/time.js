// Times on the Job Monitor. The server sends naive datetimes in the system time zone and its own "now" with each
// response: elapsed times are counted on the server's clock (the browser's may be off), and times people read are
// shown in the user's time zone, without microseconds.
frappe.provide("async_jobs");

let offset_ms = 0; // server clock − browser clock, both read as naive system-zone times

async_jobs.monitor_time = {
	parse: (value) => moment(String(value).slice(0, 19), "YYYY-MM-DD HH:mm:ss"),

	sync(server_now) {
		if (server_now) offset_ms = this.parse(server_now).valueOf() - Date.now();
	},

	server_now() {
		return moment(Date.now() + offset_ms);
	},

	since(value) {
		return this.server_now().diff(this.parse(value), "seconds");
	},

	// "14:05:09, Wed 2 Dec (CET)": in the user's time zone.
	user_time(value) {
		const m = frappe.datetime.convert_to_user_tz(String(value).slice(0, 19), false);
		const zone = m.tz && m.tz() ? ` (${m.format("z")})` : "";
		return `${m.format("HH:mm:ss")}, ${m.format("ddd D MMM")}${zone}`;
	},

	// A moment of the system zone in the user's: a chart's bucket start.
	to_user(value) {
		return frappe.datetime.convert_to_user_tz(String(value).slice(0, 19), false);
	},

	// 42 s, 3 min 5 s, 2 h 10 min, 3 d 4 h
	duration(seconds) {
		seconds = Math.max(0, Math.round(Number(seconds) || 0));
		if (seconds < 60) return __("{0} s", [seconds]);
		const m = Math.floor(seconds / 60);
		if (m < 60) return __("{0} min {1} s", [m, seconds % 60]);
		const h = Math.floor(m / 60);
		if (h < 24) return __("{0} h {1} min", [h, m % 60]);
		return __("{0} d {1} h", [Math.floor(h / 24), h % 24]);
	},

	ago(seconds) {
		seconds = Math.max(0, Math.round(Number(seconds) || 0));
		if (seconds < 5) return __("just now");
		return __("{0} ago", [this.duration(seconds)]);
	},
};
