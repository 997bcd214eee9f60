#!/usr/bin/env bash
# The whole check: lint, types, import contracts, migrations, then the suite on SQLite
# and — when reachable, and always under CI=true — on PostgreSQL + Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=config.settings.test
unset DATABASE_URL REDIS_URL
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fashionistar}
REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
ON_CI=false
case "${CI:-}" in 1|true|TRUE|yes) ON_CI=true ;; esac

step() { printf '\n== %s\n' "$*"; }

step "ruff"
$BIN/ruff check .
$BIN/ruff format --check .
step "mypy"
$BIN/mypy .
step "import contracts"
$BIN/lint-imports
step "migrations are up to date"
$BIN/python manage.py makemigrations --check --dry-run

step "tests on SQLite"
$BIN/pytest "$@"

services_up() {
    $BIN/python - "$PG_URL" "$REDIS" <<'PY'
import sys
import psycopg, redis
try:
    psycopg.connect(sys.argv[1].replace("/fashionistar", "/postgres"), connect_timeout=3).close()
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).ping()
except Exception as error:
    print(f"unreachable: {error}", file=sys.stderr)
    sys.exit(1)
PY
}

if services_up; then
    step "tests on PostgreSQL + Redis"
    DATABASE_URL=$PG_URL REDIS_URL=$REDIS $BIN/pytest "$@"
elif [ "$ON_CI" = true ]; then
    echo "CI=true but PostgreSQL ($PG_URL) or Redis ($REDIS) is unreachable" >&2
    exit 1
else
    printf '\n!!!!!!!!!!\n!! PostgreSQL or Redis unreachable: the suite ran on SQLite only.\n!! Start them (see README) to run it against PostgreSQL + Redis.\n!!!!!!!!!!\n'
fi
