#!/usr/bin/env bash
# One task worker for the configured backend (TASK_BACKEND). QUEUES picks what it drains:
#   database backend: a comma list, or '*' for all (critical before emails before analytics)
#   Redis backend:    one queue name, or '*' for all (run one process per queue for pools)
# It keeps going through database and Redis faults; SIGTERM/SIGINT stop it after the
# running task.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py run_worker --queues "${QUEUES:-*}"
