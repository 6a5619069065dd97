"""Wait until the bench's RQ queues are empty and no worker is busy (at most TIMEOUT seconds; exit 1 if never),
so that each site's run of Frappe's tests starts on a bench at rest (used by scripts/peer-tests).

	python scripts/rq_idle.py BENCH [TIMEOUT]
"""

import json
import pathlib
import sys
import time

import redis
from rq import Queue, Worker


def idle(conn) -> bool:
	queues_empty = all(not q.count for q in Queue.all(connection=conn))
	return queues_empty and all(w.get_state() != "busy" for w in Worker.all(connection=conn))


if __name__ == "__main__":
	sites = pathlib.Path(sys.argv[1]) / "sites"
	conn = redis.Redis.from_url(json.loads((sites / "common_site_config.json").read_text())["redis_queue"])
	deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 300)
	while not idle(conn):
		if time.monotonic() > deadline:
			sys.exit(1)
		time.sleep(0.5)
