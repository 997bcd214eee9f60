"""Database down: both API layers answer a quick 503 ``database_unavailable`` with
``Retry-After`` — not a 500 after waiting. The app is served by granian in its own process
whose PostgreSQL really is unreachable (nothing listens on port 9), because the suite's own
connection must stay usable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import psycopg_pool
import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, ProgrammingError

from apps.authentication.tokens import access_token_issue
from apps.common.errors import database_unavailable
from apps.common.problems import PROBLEM_CONTENT_TYPE

UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:9/nowhere?connect_timeout=1"
# A guard against waiting for the old 5 s pool timeout, not a benchmark.
MAX_SECONDS = 2.5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": UNREACHABLE_DATABASE,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_POOL_TIMEOUT", None)  # the default is what is under test
    log = tmp_path_factory.mktemp("dbdown") / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("granian")),
                "--interface",
                "asginl",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "config.asgi:application",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base_url}/health/live/", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _timed_get(url: str, **headers: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, headers=headers, timeout=15)
    return response, time.monotonic() - started


def _assert_database_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert body["code"] == "database_unavailable"
    assert body["type"].endswith("/database-unavailable")
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"


def test_v2_read_answers_503_quickly(served_without_database: str) -> None:
    response, elapsed = _timed_get(f"{served_without_database}/api/v2/products/1/")

    _assert_database_unavailable(response, elapsed)


def test_v1_authenticated_call_answers_503_quickly(served_without_database: str) -> None:
    # Tokens are signed, not stored: one can be issued without a database. Checking its
    # session (no cache marker yet) needs the database, which is down.
    token, _ = access_token_issue(user_id=1, session_id=str(uuid.uuid4()), role="vendor")

    response, elapsed = _timed_get(
        f"{served_without_database}/api/v1/vendor/store/", Authorization=f"Bearer {token}"
    )

    _assert_database_unavailable(response, elapsed)


def test_ready_probe_answers_503_quickly(served_without_database: str) -> None:
    response, elapsed = _timed_get(f"{served_without_database}/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    assert elapsed < MAX_SECONDS, f"took {elapsed:.2f} s"


def _wrapped(django_error: type[Exception], cause: BaseException) -> Exception:
    """A driver error as Django raises it: its own class, the driver's as the cause."""
    error = django_error(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(OperationalError, psycopg_pool.PoolTimeout("couldn't get a connection")),
        _wrapped(OperationalError, psycopg.OperationalError("connection failed: refused")),
        _wrapped(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
        _wrapped(OperationalError, psycopg.errors.CannotConnectNow("starting up")),
        _wrapped(InterfaceError, psycopg.InterfaceError("the connection is closed")),
        psycopg_pool.PoolTimeout("couldn't get a connection"),
    ],
    ids=["pool-timeout", "refused", "terminated", "starting-up", "closed", "raw-pool-timeout"],
)
def test_connection_failures_are_unavailability(error: Exception) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(OperationalError, psycopg.errors.QueryCanceled("statement timeout")),
        _wrapped(OperationalError, psycopg.errors.DeadlockDetected("deadlock detected")),
        _wrapped(ProgrammingError, psycopg.errors.UndefinedTable("no such relation")),
        OperationalError("no such table: catalog_product"),  # SQLite: a missing migration
        ValueError("a bug"),
    ],
    ids=["query-cancelled", "deadlock", "undefined-table", "sqlite-no-table", "bug"],
)
def test_failing_statements_and_bugs_stay_server_errors(error: Exception) -> None:
    assert not database_unavailable(error)
