#!/usr/bin/env bash
# The embedded local run: migrate, seed, then the ASGI server, a task worker, the
# recurring-job scheduler, the outbox relay and the payment-provider sandbox
# (scripts/run.procfile), kept running by tools/supervise.py: a child that crashes is
# restarted with back-off and never takes the others down. Ctrl-C (or SIGTERM) stops
# them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export HOST=${HOST:-127.0.0.1}
export PORT=${PORT:-8000}
export SANDBOX_PORT=${SANDBOX_PORT:-8001}
export PAYMENT_SANDBOX_URL=${PAYMENT_SANDBOX_URL:-http://127.0.0.1:$SANDBOX_PORT}
export SQUARE_WEBHOOK_URL=${SQUARE_WEBHOOK_URL:-http://$HOST:$PORT/api/v2/webhooks/square/}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
mkdir -p var/mail
# Every process writes its metrics here; the API's /metrics adds them all up
# (docs/observability.md). Emptied at each start: the processes of the last run are gone.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/metrics}
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo

echo "FASHIONISTAR on http://$HOST:$PORT  (API docs: /api/v2/docs/ and /api/v1/docs/; emails: var/mail/)"
echo "Payment sandbox on http://127.0.0.1:$SANDBOX_PORT  (pay pages: /pay/<provider>/<id>)"
exec $BIN/python -m tools.supervise scripts/run.procfile
