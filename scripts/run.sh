#!/usr/bin/env bash
# The embedded local run: migrate, seed, then the ASGI server and a task worker in the
# foreground. Ctrl-C (or SIGTERM) stops both.
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

$BIN/python manage.py db_worker --queue-name '*' --no-reload &
pids+=($!)
$BIN/granian --interface asginl --host "$HOST" --port "$PORT" --no-access-log config.asgi:application &
pids+=($!)

echo "FASHIONISTAR on http://$HOST:$PORT  (API docs: /api/v2/docs/ and /api/v1/docs/; emails: var/mail/)"
# Whichever process ends first ends the run.
wait -n "${pids[@]}"
