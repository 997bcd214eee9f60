"""The pool probes only connections that idled a while: a busy server pays no extra
round trip per request, and a connection killed while idle is replaced, not handed out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from config import dbpool
from config.env import database_from_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def pool() -> Iterator[ConnectionPool[psycopg.Connection[object]]]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with ConnectionPool[psycopg.Connection[object]](
        kwargs={**params, "autocommit": True},
        min_size=1,
        max_size=1,
        check=dbpool.check_if_idle,
        reset=dbpool.mark_returned,
    ) as opened:
        opened.wait()
        yield opened


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = ConnectionPool.check_connection

    def counting(conn: psycopg.Connection[object]) -> None:
        calls.append(conn.info.backend_pid)
        original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    return calls


def _backend_pid(pool: ConnectionPool[psycopg.Connection[object]]) -> int:
    with pool.connection() as conn:
        return int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]


def test_a_connection_back_a_moment_ago_is_not_probed(
    pool: ConnectionPool[psycopg.Connection[object]], probes: list[int]
) -> None:
    first = _backend_pid(pool)
    probes.clear()

    assert _backend_pid(pool) == first
    assert probes == []


def test_a_connection_killed_while_idle_is_replaced(
    pool: ConnectionPool[psycopg.Connection[object]],
    probes: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    killed = _backend_pid(pool)
    kwargs: dict[str, Any] = pool.kwargs  # type: ignore[assignment]
    with psycopg.connect(**{**kwargs, "autocommit": True}) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [killed])
    monkeypatch.setattr(dbpool, "IDLE_CHECK_SECONDS", 0.0)  # it has idled "long enough"

    replacement = _backend_pid(pool)

    assert killed in probes
    assert replacement != killed


def test_the_settings_use_the_idle_check() -> None:
    config = database_from_url(
        "postgres://u@h:5432/d", pool_min=1, pool_max=4, pool_timeout=1, pgbouncer=False
    )

    assert config["OPTIONS"]["pool"]["check"] is dbpool.check_if_idle
    assert config["OPTIONS"]["pool"]["reset"] is dbpool.mark_returned
    assert config["OPTIONS"]["server_side_binding"] is True
    assert config["OPTIONS"]["prepare_threshold"] == 5
