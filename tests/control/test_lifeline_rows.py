"""One job the lifeline cannot act on never ends its pass: a waiting job whose sealed arguments cannot be opened
ends Lost with the reason, and the other jobs of the pass are recovered (no worker: the RQ jobs are read)."""

import base64

import frappe
from frappe.utils.background_jobs import get_redis_conn
from frappe.utils.password import encrypt
from rq.job import Job

import async_jobs
from async_jobs.engine.control import lifeline
from async_jobs.engine.control.cancel import cancel_job
from tests.support.checks import row

# A pickle of an instance of a class whose module is gone (as after an app was removed).
GONE = b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x0eaj_gone_module\x94\x8c\x05Thing\x94\x93\x94)\x81\x94."


def test_a_job_whose_arguments_cannot_be_opened_ends_lost_and_the_pass_goes_on():
	names = [
		async_jobs.enqueue("async_jobs.testing.jobs.add", {"a": i, "b": 1}, queue="short").name
		for i in range(3)
	]
	frappe.db.commit()
	sealed = {"damaged": encrypt("not base64 of a pickle"), "gone": encrypt(base64.b64encode(GONE).decode())}
	bad = dict(zip(sealed, names[:2], strict=True))
	for kind, name in bad.items():
		frappe.db.set_value("Async Job", name, "encrypted_arguments", sealed[kind], update_modified=False)
	frappe.db.commit()
	for rq_id in [row(name).rq_job_id for name in names]:
		Job.fetch(rq_id, connection=get_redis_conn()).delete()  # Redis lost them all
	frappe.db.sql(
		"UPDATE `tabAsync Job` SET modified = modified - INTERVAL 1 MINUTE WHERE name IN %s", [tuple(names)]
	)
	frappe.db.commit()
	try:
		counts = lifeline.reconcile()
		frappe.db.commit()

		for name in bad.values():
			lost = row(name)
			assert lost.status == "Lost" and "cannot be opened" in lost.error, (lost.status, lost.error)
		assert "ModuleNotFoundError" in row(bad["gone"]).error
		assert Job.exists(row(names[2]).rq_job_id, connection=get_redis_conn()), (
			"the good job was not recovered"
		)
		assert counts["recovered"] >= 1
	finally:
		for name in names:
			cancel_job(name)
		frappe.db.commit()
