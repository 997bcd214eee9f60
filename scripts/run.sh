#!/usr/bin/env bash
# The embedded local run: migrate, seed, then the ASGI server, a task worker, the
# recurring-job scheduler and the payment-provider sandbox in the foreground. Ctrl-C (or
# SIGTERM) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8001}
export PAYMENT_SANDBOX_URL=${PAYMENT_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}
export SQUARE_WEBHOOK_URL=${SQUARE_WEBHOOK_URL:-http://$HOST:$PORT/api/v2/webhooks/square/}
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

$BIN/python -m tools.sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" \
    --deliver-to "http://$HOST:$PORT" &
pids+=($!)
scripts/worker.sh &
pids+=($!)
$BIN/python manage.py run_scheduler &
pids+=($!)
$BIN/granian --interface asginl --host "$HOST" --port "$PORT" --no-access-log config.asgi:application &
pids+=($!)

echo "FASHIONISTAR on http://$HOST:$PORT  (API docs: /api/v2/docs/ and /api/v1/docs/; emails: var/mail/)"
echo "Payment sandbox on http://127.0.0.1:$SANDBOX_PORT  (pay pages: /pay/<provider>/<id>)"
# Whichever process ends first ends the run.
wait -n "${pids[@]}"
