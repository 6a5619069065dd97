"""One contender of the dedup race: connect, wait for the common start instant, enqueue, print the job name.

python tests/support/race.py <site> <dedup key> <start epoch>   (cwd: the bench's sites folder)
"""

import sys
import time

import frappe

import async_jobs


def main(site: str, key: str, start_at: float) -> None:
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	late = time.time() > start_at
	while time.time() < start_at:
		pass  # spin: a sleep's wake-up jitter would spread the contenders out
	# delayed: the holder stays active through the race even when a (fast) worker would run it at once, which
	# would release the key and let a later contender rightly start a new job
	job = async_jobs.enqueue(
		"async_jobs.testing.jobs.add", {"a": 1, "b": 1}, queue="short", dedup_key=key, delay=600
	)
	frappe.db.commit()
	print(f"{job.name} {'late' if late else 'on-time'}")
	frappe.destroy()


if __name__ == "__main__":
	main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
