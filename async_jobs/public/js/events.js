// One place that listens to async_jobs' realtime events; consumers subscribe and unsubscribe by key, so a page or a
// form never stacks duplicate socket listeners (off before on) and leaves none behind when it goes away.
frappe.provide("async_jobs.events");

const EVENTS = ["async_jobs:progress", "async_jobs:finished", "async_jobs:batch", "async_jobs:alert"];
const subscribers = new Map(); // key → fn(event, data)

function dispatch(event) {
	return (data) => {
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
