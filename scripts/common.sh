# Shared settings for scripts/setup, scripts/run and scripts/test. Source it; do not run it.
# Every value can be overridden from the environment.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "$(id -u)" = 0 ]; then
	BENCH_USER="${ASYNC_JOBS_BENCH_USER:-frappe}"   # bench refuses root: it runs as this user
else
	BENCH_USER="${ASYNC_JOBS_BENCH_USER:-$(id -un)}"
fi
BENCH_HOME="$(getent passwd "$BENCH_USER" | cut -d: -f6 || true)"

# Two benches share MariaDB: "frappe" (plain Frappe 15, the default) and "erpnext" (Frappe 15 with ERPNext 15 on the
# site). Each has its own folder, site and ports; every value below can still be set one by one.
PROFILE="${ASYNC_JOBS_PROFILE:-frappe}"
case "$PROFILE" in
	frappe) _bench=frappe-bench _site=async-jobs.localhost _offset=0 _erpnext=0 ;;
	erpnext) _bench=erpnext-bench _site=async-jobs-erpnext.localhost _offset=100 _erpnext=1 ;;
	*) printf 'ASYNC_JOBS_PROFILE must be frappe or erpnext, not %s\n' "$PROFILE" >&2; exit 1 ;;
esac
BENCH_DIR="${ASYNC_JOBS_BENCH:-${BENCH_HOME:-$HOME}/$_bench}"
SITE="${ASYNC_JOBS_SITE:-$_site}"
WITH_ERPNEXT="${ASYNC_JOBS_ERPNEXT:-$_erpnext}"
ADMIN_PASSWORD="${ASYNC_JOBS_ADMIN_PASSWORD:-admin}"
DB_ROOT_PASSWORD="${ASYNC_JOBS_DB_ROOT_PASSWORD:-root}"
FRAPPE_BRANCH="${FRAPPE_BRANCH:-version-15}"
ERPNEXT_BRANCH="${ERPNEXT_BRANCH:-version-15}"
REDIS_CACHE_PORT="${ASYNC_JOBS_REDIS_CACHE_PORT:-$((13000 + _offset))}"
REDIS_QUEUE_PORT="${ASYNC_JOBS_REDIS_QUEUE_PORT:-$((11000 + _offset))}"
WEB_PORT="${ASYNC_JOBS_WEB_PORT:-$((8000 + _offset))}"
SOCKETIO_PORT="${ASYNC_JOBS_SOCKETIO_PORT:-$((9000 + _offset))}"

say() { printf '\033[1m[async_jobs]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[async_jobs] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Run a command as the bench user, in the bench folder, with a sane environment.
as_bench_user() {
	local path="$BENCH_HOME/.local/bin:$BENCH_HOME/.bench-cli/bin:/usr/local/bin:/usr/bin:/bin"
	if is_root; then
		runuser -u "$BENCH_USER" -- env HOME="$BENCH_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
			PATH="$path" LANG=C.UTF-8 UV_NATIVE_TLS="${UV_NATIVE_TLS:-1}" "$@"
	else
		env PATH="$path:$PATH" UV_NATIVE_TLS="${UV_NATIVE_TLS:-1}" "$@"
	fi
}

bench_cmd() { (cd "$BENCH_DIR" && as_bench_user bench "$@"); }
