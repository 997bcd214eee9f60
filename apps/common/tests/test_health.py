"""Health probes. The failure cases run a separate process whose database really is
unreachable (or unmigrated), because the suite's own connection must stay usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/health/ready/")
print("PROBE-RESULT", json.dumps({"status": response.status_code, "body": response.json()}))
"""


def probe_ready(**env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # The pool's own threads may still log after the result: find the result's line.
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE-RESULT "))
    return json.loads(line.removeprefix("PROBE-RESULT "))


def test_live_answers_without_touching_dependencies(client: Client) -> None:
    response = client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_when_database_cache_and_migrations_are_fine(client: Client) -> None:
    response = client.get("/health/ready/")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True,
        "cache": True,
        "migrations": True,
    }


def test_ready_is_503_when_database_is_unreachable() -> None:
    result = probe_ready(
        DATABASE_URL="postgres://postgres@127.0.0.1:9/nowhere?connect_timeout=1",
        DATABASE_POOL_TIMEOUT="1",
    )

    assert result["status"] == 503
    assert result["body"]["status"] == "unavailable"
    assert result["body"]["checks"]["database"]["ok"] is False
    assert result["body"]["checks"]["migrations"]["ok"] is False


def test_ready_is_503_when_migrations_are_not_applied(tmp_path: Path) -> None:
    result = probe_ready(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")

    assert result["status"] == 503
    assert result["body"]["checks"]["database"]["ok"] is True
    assert "not applied" in result["body"]["checks"]["migrations"]["error"]


@pytest.mark.redis
def test_ready_is_503_when_redis_is_unreachable() -> None:
    result = probe_ready(REDIS_URL="redis://127.0.0.1:9/0")

    assert result["status"] == 503
    assert result["body"]["checks"]["cache"]["ok"] is False
