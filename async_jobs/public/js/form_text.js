frappe.provide("async_jobs.ui");

// Read-only text fields that hold job-written text (an error, a progress message): Frappe's Small Text and Data
// formatters insert the value as HTML. This formatter draws it as text, line breaks kept. Set it on the form's own
// docfields before they render (the form's onload), so no markup is ever inserted.
async_jobs.ui.plain_text = (value) =>
	value == null || value === ""
		? ""
		: `<span class="aj-plain-text" style="white-space: pre-wrap">${frappe.utils.escape_html(String(value))}</span>`;

async_jobs.ui.show_as_text = (frm, fieldnames) => {
	for (const fieldname of fieldnames) {
		const df = frappe.meta.get_docfield(frm.doctype, fieldname, frm.docname);
		if (df && df.formatter !== async_jobs.ui.plain_text) df.formatter = async_jobs.ui.plain_text;
	}
};
