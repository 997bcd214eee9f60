#!/usr/bin/env bash
# Mutation testing of the code that moves stock and money (`make mutate`; docs/quality.md).
# mutmut copies the project to mutants/, mutates the modules listed in pyproject.toml
# [tool.mutmut], and runs the fast SQLite tests of those apps against every mutant.
#   MUTATE_CHILDREN     parallel test runs (default 2)
#   MUTATE_TEST_BUDGET  seconds of tests per mutated function (default 1.5; scripts/mutate_run.py)
#   MUTATE_KEEP=1       keep mutants/ afterwards (for `mutmut show NAME`, `mutmut browse`);
#                       otherwise it is removed, as `mypy .` would read the copy
#   MUTATE_RESUME=1     start from the kept results and re-test only what changed
# Extra arguments go to `mutmut run`, e.g. mutant names or a pattern ('apps.payouts.rounding*').
# The per-module scores and every survivor's diff are written to var/mutate/report.txt.
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
took=$(($(date +%s) - started))
rm -f var/mutate/*.sqlite3*

$BIN/python scripts/mutate_report.py --survivors > var/mutate/report.txt || status=$?
sed -n '/^module/,/^all money modules/p' var/mutate/report.txt
survivors=$(grep -c '^  apps/' var/mutate/report.txt || true)
echo "$survivors mutants not killed, listed with their diffs in var/mutate/report.txt"
printf 'mutmut ran for %d min %02d s\n' $((took / 60)) $((took % 60))
if [ "${MUTATE_KEEP:-0}" != 1 ]; then
    rm -rf mutants
fi
exit "$status"
