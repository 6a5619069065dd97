"""The daily digest: an HTML mail of the last 24 hours (jobs by status and type, top failures, open alerts)."""

from datetime import datetime, timedelta

import frappe
from frappe import _
from frappe.utils import now_datetime

from async_jobs.engine.health import alerts, recipients
from async_jobs.engine.ledger import settings
from async_jobs.engine.ops import stats

TEMPLATE = "async_jobs/templates/emails/async_jobs_digest.html"


def context(now: datetime) -> dict:
	start = now - timedelta(hours=24)
	return {
		"site": frappe.local.site,
		"start": start,
		"end": now,
		"by_status": stats.by_status(start, now),
		"by_kind": stats.by_kind(start, now),
		"by_type": stats.by_type(start, now),
		"failures": stats.top_failures(start, now),
		"alerts": alerts.open_alerts(),
	}


def render(now: datetime | None = None) -> tuple[str, str]:
	"""(subject, HTML body) of the digest ending at `now`."""
	data = context(now or now_datetime())
	total = sum(data["by_status"].values())
	failed = sum(row.failed for row in data["by_type"])
	subject = _("Async Jobs digest for {0}: {1} jobs, {2} failed, {3} open alerts").format(
		data["site"], total, failed, len(data["alerts"])
	)
	return subject, frappe.render_template(TEMPLATE, {**data, "total": total, "failed": failed, "_": _})


def send(now: datetime | None = None):
	"""Queue the digest mail to its recipients; the Email Queue row, or None when there is nobody to send to."""
	to = recipients.mail_recipients(settings.load(), "digest_recipients")
	if not to:
		return None
	subject, body = render(now)
	return frappe.sendmail(
		recipients=to,
		subject=subject,
		message=body,
		reference_doctype=settings.DOCTYPE,
		reference_name=settings.DOCTYPE,
	)
