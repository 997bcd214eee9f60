#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for candidate in python3 python3.12 python3.13 python3.14; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    PY=$(find_python) || { echo "FASHIONISTAR needs Python >= 3.12 (python3.12 not found)" >&2; exit 1; }
    echo "Creating .venv with $("$PY" --version)"
    rm -rf .venv
    "$PY" -m venv .venv
fi
echo "Installing locked dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
