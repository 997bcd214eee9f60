#!/usr/bin/env bash
# The embedded local run: migrate, seed, then the ASGI server, a task worker and the
# recurring-job scheduler in the foreground. Ctrl-C (or SIGTERM) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
mkdir -p var/mail

$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo

pids=()
stop() {
    trap - INT TERM EXIT
    echo "Stopping server and worker..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

scripts/worker.sh &
pids+=($!)
$BIN/python manage.py run_scheduler &
pids+=($!)
$BIN/granian --interface asginl --host "$HOST" --port "$PORT" --no-access-log config.asgi:application &
pids+=($!)

echo "FASHIONISTAR on http://$HOST:$PORT  (API docs: /api/v2/docs/ and /api/v1/docs/; emails: var/mail/)"
# Whichever process ends first ends the run.
wait -n "${pids[@]}"
