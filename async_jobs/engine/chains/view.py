"""What the Desk shows of dependencies: what a waiting job still waits for (the Job Monitor's "why"), and chains
as one row each with their steps."""

import frappe
from frappe import _

from async_jobs.engine.chains.release import ended, parents_state, succeeded
from async_jobs.engine.ledger.status import FAILED_ENDS, TERMINAL, JobStatus

CHAINS_SHOWN = 20
_FAILED = frozenset(s.value for s in FAILED_ENDS)
_TERMINAL = frozenset(s.value for s in TERMINAL)


def waits_for(name: str) -> tuple[list[str], int]:
	"""(the parents of job `name` that have not ended, how many parents it has)."""
	parents = parents_state(name)
	return [p for doctype, p, status in parents if not ended(doctype, status)], len(parents)


def chain_status(steps: list[dict]) -> str:
	"""One word for a whole chain: Failed or Cancelled once a step ended so, Finished when all did, Running while
	a step runs, else Waiting."""
	statuses = [s["status"] for s in steps]
	if any(status in _FAILED for status in statuses):
		return "Failed"
	if any(status == JobStatus.CANCELLED.value for status in statuses):
		return "Cancelled"
	if all(status == JobStatus.FINISHED.value for status in statuses):
		return "Finished"
	if any(status == JobStatus.STARTED.value for status in statuses):
		return "Running"
	return "Waiting"


def recent_chains(base: dict, since) -> list[dict]:
	"""The newest chains (at most CHAINS_SHOWN) the user may see with a step created in the period, newest first:
	one row each, with its steps in order."""
	filters = {**{k: v for k, v in base.items() if k != "status"}, "chain": ["is", "set"]}
	newest = frappe.get_all(
		"Async Job",
		filters={**filters, "creation": [">=", since]},
		fields=["chain", "max(creation) as newest"],
		group_by="chain",
		order_by="newest desc",
		limit_page_length=CHAINS_SHOWN,
	)
	ids = [row.chain for row in newest]
	if not ids:
		return []
	steps = frappe.get_all(
		"Async Job",
		filters={**filters, "chain": ["in", ids]},
		fields=[
			"name",
			"chain",
			"chain_step",
			"job_type",
			"status",
			"owner",
			"progress_percent",
			"creation",
			"error",
		],
		order_by="chain_step asc",
		limit_page_length=len(ids) * 1000,
	)
	by_chain: dict[str, list] = {}
	for step in steps:
		by_chain.setdefault(step.chain, []).append(step)
	chains = []
	for chain in ids:
		rows = by_chain.get(chain) or []
		if not rows:
			continue
		chains.append(
			{
				"name": chain,
				"first": rows[0].name,
				"owner": rows[0].owner,
				"title": _("{0} → {1}").format(rows[0].job_type, rows[-1].job_type)
				if len(rows) > 1
				else rows[0].job_type,
				"status": chain_status(rows),
				"ended": sum(1 for r in rows if r.status in _TERMINAL),
				"succeeded": sum(1 for r in rows if succeeded("Async Job", r.status)),
				"started_at": str(rows[0].creation),
				"steps": [
					{
						"name": r.name,
						"step": r.chain_step,
						"job_type": r.job_type,
						"status": r.status,
						"progress_percent": r.progress_percent,
						"error": r.error,
					}
					for r in rows
				],
			}
		)
	return chains
