"""One contender of the schedule race (two stagers firing the same tick): connect, wait for the common start
instant, fire the site's due schedules with the clock given, print what this process fired.

python tests/support/fire_race.py <site> <now> <start epoch>   (cwd: the bench's sites folder)
"""

import sys
import time

import frappe
from frappe.utils import get_datetime


def main(site: str, now: str, start_at: float) -> None:
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	from async_jobs.engine.schedules import fire

	while time.time() < start_at:
		pass  # spin: a sleep's wake-up jitter would spread the contenders out
	print(repr(fire.fire_due(now=get_datetime(now))))
	frappe.destroy()


if __name__ == "__main__":
	main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
