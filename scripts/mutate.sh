#!/usr/bin/env bash
# Mutation testing of the code that moves stock and money (`make mutate`; docs/quality.md).
# mutmut copies the project to mutants/, mutates the modules listed in pyproject.toml
# [tool.mutmut], and runs the fast SQLite tests of those apps against every mutant.
# MUTATE_CHILDREN (default 2) bounds the parallel test runs; MUTATE_RESUME=1 keeps the
# previous results and re-tests only what changed; extra arguments go to `mutmut run`
# (e.g. a mutant name pattern: scripts/mutate.sh 'apps.payouts.rounding*');
# MUTATE_TEST_BUDGET (seconds, default 1.5) bounds the tests run per mutant (scripts/mutate_run.py).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=config.settings.test
unset DATABASE_URL REDIS_URL

if [ "${MUTATE_RESUME:-0}" != 1 ]; then
    rm -rf mutants
fi
# One migrated SQLite database; every test run works on its own copy (scripts/mutate_pytest.py).
mkdir -p var/mutate
rm -f var/mutate/*.sqlite3*
export MUTATE_TEMPLATE_DB=$PWD/var/mutate/template.sqlite3
DATABASE_URL="sqlite:///$MUTATE_TEMPLATE_DB" $BIN/python manage.py migrate --noinput -v 0

started=$(date +%s)
status=0
$BIN/python scripts/mutate_run.py --max-children "${MUTATE_CHILDREN:-2}" "$@" || status=$?
echo "mutmut finished in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
rm -f var/mutate/*.sqlite3*
$BIN/python scripts/mutate_report.py
exit "$status"
