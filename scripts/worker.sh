#!/usr/bin/env bash
# One task worker for the configured backend. QUEUES picks what it drains:
#   database backend: a comma list, or '*' for all (critical before emails before analytics)
#   Redis backend:    one queue name, or '*' for all (run one process per queue for pools)
set -euo pipefail
cd "$(dirname "$0")/.."
QUEUES=${QUEUES:-*}
if [ "${TASK_BACKEND:-database}" = "redis" ]; then
    args=(run_redis_tasks --continuous)
    [ "$QUEUES" != "*" ] && args+=(--queue "$QUEUES")
    exec .venv/bin/python manage.py "${args[@]}"
fi
exec .venv/bin/python manage.py db_worker --queue-name "$QUEUES" --no-reload
