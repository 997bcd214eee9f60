#!/usr/bin/env bash
# `make bench`: make sure wrk, PostgreSQL and Redis are there, then run the HTTP benchmark
# (python -m bench.http; docs/performance.md explains the knobs and the table). Whatever
# the run started is stopped when it ends, fails, or on Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null 2>&1; then
    echo "Installing wrk"
    as_root apt-get install -y -q wrk >/dev/null 2>&1 ||
        { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q wrk >/dev/null; }
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/bench.log || true
fi
for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 1
done

mkdir -p var/bench
export BENCH_PGID_FILE=var/bench/server-pgids
: >"$BENCH_PGID_FILE"
runner=
stop() {
    trap - INT TERM EXIT
    if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
        kill -TERM "$runner" 2>/dev/null || true
        wait "$runner" 2>/dev/null || true
    fi
    # Safety net: the servers' process groups, had the runner been killed outright.
    while read -r pgid; do
        [ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null || true
    done <"$BENCH_PGID_FILE"
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

# In the background so the traps run at once; the runner stops its servers on SIGTERM.
$BIN/python -m bench.http &
runner=$!
status=0
wait "$runner" || status=$?
runner=
exit "$status"
