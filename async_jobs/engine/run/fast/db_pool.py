"""Database connections kept open across the jobs of one fast-worker child, reset between them.

Frappe opens a MariaDB connection for every job and closes it in frappe.destroy(). In a long-lived child this
module makes MariaDBDatabase hand its connection back instead of closing it, and hand the next job (of the same
site) a connection that looks freshly opened:

- on release: ROLLBACK (whatever the job left uncommitted is undone at once, its row locks freed);
- on reuse: COM_RESET_CONNECTION (session and user variables back to their defaults, temporary tables dropped,
  named locks released, autocommit back to the server default), then what pymysql set when it connected:
  the connection's collation, autocommit off and the site's database. A connection that fails the reset (MariaDB
  restarted, wait_timeout passed) is dropped and a new one made.
- a connection that ran nothing but COMMIT / ROLLBACK since its last reset (a job that never touched the
  database: execute_job commits anyway) cannot have changed its session; it is only pinged before reuse (one
  round trip instead of five). Every command a connection sends is checked (pymysql's _execute_command), so
  statements sent around Frappe's sql() count too.

Installed only in the fast worker's child process (install()); nothing changes elsewhere.
"""

import time

import pymysql
from frappe.database.mariadb.database import MariaDBDatabase
from pymysql.constants import COMMAND

COM_RESET_CONNECTION = 0x1F  # pymysql has no constant for it
HARMLESS = {b"commit", b"rollback"}
MAX_IDLE = 8  # idle connections kept in all (several sites, plus a job's side connection)

_idle: list[tuple[tuple, pymysql.connections.Connection, float]] = []
_installed = False
stats = {"opened": 0, "reused": 0, "dropped": 0}


def install() -> None:
	global _installed
	if _installed:
		return
	MariaDBDatabase._get_connection = _checkout
	MariaDBDatabase.close = _release
	send = pymysql.connections.Connection._execute_command

	def _execute_command(conn, command, sql):
		if conn.__dict__.get("_aj_clean") and not _harmless(command, sql):
			conn._aj_clean = False
		return send(conn, command, sql)

	pymysql.connections.Connection._execute_command = _execute_command
	_installed = True


def _harmless(command: int, sql) -> bool:
	if command == COMMAND.COM_PING:
		return True
	if command != COMMAND.COM_QUERY:
		return False
	return (sql.encode() if isinstance(sql, str) else bytes(sql)).strip().lower() in HARMLESS


def _key(db: MariaDBDatabase) -> tuple:
	return (db.host, db.port, db.user, db.password, db.cur_db_name)


def _checkout(db: MariaDBDatabase) -> pymysql.connections.Connection:
	key = _key(db)
	for i in range(len(_idle) - 1, -1, -1):
		if _idle[i][0] == key:
			_, conn, _ = _idle.pop(i)
			try:
				if conn._aj_clean:
					conn.ping(reconnect=False)
				else:
					reset(conn, db.cur_db_name)
				stats["reused"] += 1
				return conn
			except Exception:
				stats["dropped"] += 1
				_close_quietly(conn)
	conn = db.create_connection()
	with conn.cursor() as cursor:
		cursor.execute("SELECT @@collation_connection")
		conn._aj_collation = cursor.fetchone()[0]
	conn._aj_clean = True
	stats["opened"] += 1
	return conn


def reset(conn: pymysql.connections.Connection, database: str | None) -> None:
	"""Make a used connection look like a new one (see the module's docstring)."""
	conn._execute_command(COM_RESET_CONNECTION, b"")
	conn._read_ok_packet()
	conn.query(f"SET NAMES {conn.charset} COLLATE {conn._aj_collation}, autocommit = 0")
	if database:
		conn.select_db(database)
	conn._aj_clean = True


def _release(db: MariaDBDatabase) -> None:
	"""Database.close(): roll back and keep the connection for the next job."""
	conn = getattr(db, "_conn", None)
	db._conn = None
	db._cursor = None
	if conn is None:
		return
	try:
		if not conn._aj_clean:
			conn.rollback()
	except Exception:
		stats["dropped"] += 1
		_close_quietly(conn)
		return
	_idle.append((_key(db), conn, time.monotonic()))
	while len(_idle) > MAX_IDLE:
		_close_quietly(_idle.pop(0)[1])


def close_all() -> None:
	while _idle:
		_close_quietly(_idle.pop()[1])


def _close_quietly(conn) -> None:
	try:
		conn.close()
	except Exception:
		pass
