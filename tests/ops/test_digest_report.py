"""The daily digest (HTML) and the monthly report (PDF attachment) become real Email Queue rows whose content
reflects the ledger of their period."""

import email
import io
import uuid
from datetime import date, datetime, timedelta

import frappe
import pytest
from pypdf import PdfReader

from async_jobs.engine.ops import digest, report, stats

FEBRUARY = datetime(2020, 2, 1)  # a period no other test writes jobs into


def insert_jobs(rows: list[dict]) -> None:
	"""Ledger rows straight into the table (one multi-row INSERT)."""
	columns = ["name", "creation", "modified", "owner", "modified_by", "status", "job_type", "queue", "error"]
	columns += ["started_at", "ended_at", "wait_seconds", "run_seconds"]
	values = [
		(
			f"aj-rep-{uuid.uuid4().hex[:12]}",
			row["creation"],
			row["creation"],
			"Administrator",
			"Administrator",
			row["status"],
			row["job_type"],
			"short",
			row.get("error"),
			row["creation"] + timedelta(seconds=row["wait"]) if "wait" in row else None,
			row["creation"] + timedelta(seconds=row["wait"] + row["run"]) if "run" in row else None,
			row.get("wait", 0),
			row.get("run", 0),
		)
		for row in rows
	]
	placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(values))
	frappe.db.sql(
		f"INSERT INTO `tabAsync Job` ({', '.join(columns)}) VALUES {placeholders}",
		[value for row in values for value in row],
	)
	frappe.db.commit()


@pytest.fixture(scope="module")
def february():
	"""100 finished jobs (waits 0.01 to 1.00 s, runs 1 to 100 s) and 7 failures, in February 2020."""
	frappe.db.sql(
		"DELETE FROM `tabAsync Job` WHERE creation >= %s AND creation < %s", (FEBRUARY, datetime(2020, 3, 1))
	)
	rows = [
		{
			"creation": FEBRUARY + timedelta(hours=i),
			"status": "Finished",
			"job_type": "aj-rep-import",
			"wait": i / 100,
			"run": float(i),
		}
		for i in range(1, 101)
	]
	rows += [
		{
			"creation": FEBRUARY + timedelta(days=3),
			"status": "Failed",
			"job_type": "aj-rep-sync",
			"error": "ValueError: boom\nTraceback",
		}
		for _ in range(5)
	]
	rows += [
		{
			"creation": FEBRUARY + timedelta(days=4),
			"status": "Dead",
			"job_type": "aj-rep-sync",
			"error": "KeyError: 'x'",
		}
		for _ in range(2)
	]
	insert_jobs(rows)
	yield
	frappe.db.sql("DELETE FROM `tabAsync Job` WHERE job_type LIKE 'aj-rep-%%'")
	frappe.db.commit()


@pytest.fixture
def recipients_set():
	doc = frappe.get_doc("Async Jobs Settings")
	before = doc.digest_recipients, doc.report_recipients
	doc.digest_recipients = "aj-digest@example.com"
	doc.report_recipients = "aj-report@example.com, aj-ops@example.com"
	doc.save()
	frappe.db.commit()
	yield
	doc.reload()
	doc.digest_recipients, doc.report_recipients = before
	doc.save()
	frappe.db.commit()


def recipients_of(queue) -> set[str]:
	return set(frappe.get_all("Email Queue Recipient", filters={"parent": queue.name}, pluck="recipient"))


def test_percentiles_use_the_nearest_rank():
	assert [stats.nearest_rank(100, p) for p in (50, 95, 99)] == [49, 94, 98]
	assert stats.nearest_rank(1, 99) == 0


def test_last_month_is_the_whole_calendar_month_before():
	assert report.last_month(date(2026, 1, 15)) == (datetime(2025, 12, 1), datetime(2026, 1, 1))
	assert report.last_month(date(2026, 3, 1)) == (datetime(2026, 2, 1), datetime(2026, 3, 1))


def test_the_daily_digest_is_an_html_mail_of_the_last_24_hours(february, recipients_set):
	queue = digest.send(now=FEBRUARY + timedelta(days=3, hours=12))

	assert queue and queue.doctype == "Email Queue" and frappe.db.exists("Email Queue", queue.name)
	assert recipients_of(queue) == {"aj-digest@example.com"}
	message = email.message_from_string(frappe.db.get_value("Email Queue", queue.name, "message"))
	html = next(part for part in message.walk() if part.get_content_type() == "text/html")
	body = html.get_payload(decode=True).decode()
	assert "aj-rep-sync" in body and "ValueError: boom" in body and "KeyError" not in body  # day 4: not yet
	assert "29 jobs, 5 failed," in message["Subject"]  # 24 finished (hours 36 to 59) + 5 failed


def test_the_monthly_report_is_a_pdf_attachment_with_the_months_numbers(february, recipients_set):
	queue = report.send(today=date(2020, 3, 1))

	assert recipients_of(queue) == {"aj-report@example.com", "aj-ops@example.com"}
	message = email.message_from_string(frappe.db.get_value("Email Queue", queue.name, "message"))
	(attachment,) = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
	assert attachment.get_filename() == "async-jobs-report-2020-02.pdf"
	data = attachment.get_payload(decode=True)
	assert data.startswith(b"%PDF")
	pages = PdfReader(io.BytesIO(data)).pages
	text = " ".join(" ".join(page.extract_text().split()) for page in pages)  # wkhtmltopdf spaces are tabs
	for expected in ("February 2020", "aj-rep-import", "aj-rep-sync", "ValueError: boom", "KeyError", "p95"):
		assert expected in text, expected
	assert "0.50" in text and "0.95" in text and "99.00" in text  # wait p50, wait p95, run p99


def test_the_digest_counts_observed_jobs_apart_from_tracked_ones():
	"""Observed rows (the site's plain and scheduled jobs) are in the digest, and counted as their own kind."""
	from async_jobs.engine.ledger import observed

	march = datetime(2020, 3, 10)
	period = (march, march + timedelta(days=1))
	frappe.db.sql("DELETE FROM `tabAsync Job` WHERE creation >= %s AND creation < %s", period)
	insert_jobs([{"creation": march + timedelta(hours=1), "status": "Finished", "job_type": "aj-rep-kind"}])
	observed.upsert(
		[
			{
				"name": observed.row_name(f"site::aj-rep-{i}", str(i)),
				"status": status,
				"job_type": "aj-rep-plain",
				"queued_at": march + timedelta(hours=2),
				"ended_at": march + timedelta(hours=2),
			}
			for i, status in enumerate(["Finished", "Failed", "Timed Out"])
		]
	)
	frappe.db.commit()
	try:
		assert stats.by_kind(*period) == {
			"Tracked": {"total": 1, "failed": 0},
			"Observed": {"total": 3, "failed": 2},
		}
		subject, body = digest.render(period[1])
		assert "4 jobs, 2 failed" in subject
		assert "Started through async_jobs: 1 (0 failed)" in body and ": 3 (2 failed)" in body
	finally:
		frappe.db.sql("DELETE FROM `tabAsync Job` WHERE creation >= %s AND creation < %s", period)
		frappe.db.commit()
