"""The monthly operations report: last month's jobs by type and status, top failures, wait and run time
percentiles and a bar chart, rendered to PDF by wkhtmltopdf and mailed to the report recipients."""

from datetime import date, datetime

import frappe
from frappe import _
from frappe.utils import add_months, get_datetime, getdate
from frappe.utils.pdf import get_pdf

from async_jobs.engine.health import recipients
from async_jobs.engine.ledger import settings
from async_jobs.engine.ops import stats

TEMPLATE = "async_jobs/templates/emails/async_jobs_report.html"
CHART_TYPES = 12  # the busiest job types get a bar each


def last_month(today: date | None = None) -> tuple[datetime, datetime]:
	"""[first of last month, first of this month)."""
	first = getdate(today).replace(day=1)
	return get_datetime(add_months(first, -1)), get_datetime(first)


def context(start: datetime, end: datetime) -> dict:
	types = stats.by_type(start, end)
	busiest = max([row.total for row in types] or [1])
	chart = [
		{
			**row,
			"finished_pct": 100.0 * row.finished / busiest,
			"failed_pct": 100.0 * row.failed / busiest,
			"other_pct": 100.0 * row.other / busiest,
		}
		for row in types[:CHART_TYPES]
	]
	return {
		"site": frappe.local.site,
		"start": start,
		"end": end,
		"month": start.strftime("%B %Y"),
		"by_status": stats.by_status(start, end),
		"by_type": types,
		"chart": chart,
		"failures": stats.top_failures(start, end),
		"wait": stats.percentiles("wait_seconds", start, end),
		"run": stats.percentiles("run_seconds", start, end),
		"percentiles": stats.PERCENTILES,
	}


def render(start: datetime, end: datetime) -> tuple[str, str]:
	data = context(start, end)
	title = _("Async Jobs report for {0}: {1}").format(data["site"], data["month"])
	return title, frappe.render_template(TEMPLATE, {**data, "title": title, "_": _})


def pdf(start: datetime, end: datetime) -> tuple[str, bytes]:
	title, html = render(start, end)
	return title, get_pdf(html)


def send(today: date | None = None, start: datetime | None = None, end: datetime | None = None):
	"""Mail last month's report (or the one of [start, end)) as a PDF; the Email Queue row, or None when there
	is nobody to send it to."""
	to = recipients.mail_recipients(settings.load(), "report_recipients")
	if not to:
		return None
	if not (start and end):
		start, end = last_month(today)
	title, content = pdf(start, end)
	return frappe.sendmail(
		recipients=to,
		subject=title,
		message=_("The operations report of background jobs on {0} for {1} is attached.").format(
			frappe.local.site, start.strftime("%B %Y")
		),
		attachments=[{"fname": f"async-jobs-report-{start:%Y-%m}.pdf", "fcontent": content}],
		reference_doctype=settings.DOCTYPE,
		reference_name=settings.DOCTYPE,
	)
