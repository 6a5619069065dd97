// One place that listens to async_jobs' realtime events; consumers subscribe and unsubscribe by key, so a page or a
// form never stacks duplicate socket listeners (off before on) and leaves none behind when it goes away.
frappe.provide("async_jobs.events");

const EVENTS = ["async_jobs:progress", "async_jobs:finished", "async_jobs:batch", "async_jobs:alert"];
const subscribers = new Map(); // key → fn(event, data)

// The same message can arrive twice: a manager who owns a job is in the job owner's room and, on the Job
// Monitor, in the managers' room, and the server sends to each. One delivery per message reaches subscribers.
const SEEN_FOR_MS = 2000;
const seen = new Map(); // event + message → when it arrived

function first_delivery(event, data) {
	const now = Date.now();
	const key = event + JSON.stringify(data || {});
	for (const [k, at] of seen) {
		if (now - at < SEEN_FOR_MS) break; // oldest first: the rest are newer
		seen.delete(k);
	}
	if (seen.has(key)) return false;
	seen.set(key, now);
	return true;
}

function dispatch(event) {
	return (data) => {
		if (!first_delivery(event, data)) return;
		for (const fn of subscribers.values()) {
			try {
				fn(event, data || {});
			} catch (e) {
				console.error("async_jobs listener failed", e);
			}
		}
	};
}

const handlers = Object.fromEntries(EVENTS.map((event) => [event, dispatch(event)]));

function bind_socket() {
	for (const event of EVENTS) {
		frappe.realtime.off(event, handlers[event]);
		frappe.realtime.on(event, handlers[event]);
	}
}

async_jobs.events.subscribe = (key, fn) => {
	subscribers.set(key, fn);
};

async_jobs.events.unsubscribe = (key) => {
	subscribers.delete(key);
};

async_jobs.events.connected = () => !!(frappe.realtime.socket && frappe.realtime.socket.connected);

$(document).on("app_ready", () => {
	bind_socket();
	// socket.io re-attaches its listeners itself after a reconnect; rebinding keeps exactly one of each.
	frappe.realtime.socket && frappe.realtime.socket.on("connect", bind_socket);
});
