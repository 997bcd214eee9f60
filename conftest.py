"""Suite-wide fixtures and the service markers.

``@pytest.mark.postgres`` tests run only when the suite runs on PostgreSQL and
``@pytest.mark.redis`` ones only when ``REDIS_URL`` points at a live Redis. Locally a
missing service skips them with a loud reason; under ``CI=true`` it fails them.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from apps.common import events

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(f"SERVICE MISSING — {reason}")


def redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    # `make test` runs the suite once on SQLite (service tests skip: they belong to the
    # second pass) and once with DATABASE_URL/REDIS_URL set, where a configured service
    # that does not answer fails the run under CI=true.
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass of `make test` (DATABASE_URL=postgres://…)")
    if request.node.get_closest_marker("redis"):
        if not os.environ.get("REDIS_URL"):
            pytest.skip("runs in the Redis pass of `make test` (REDIS_URL=redis://…)")
        _require(redis_available(), f"Redis at {os.environ['REDIS_URL']} does not answer")


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    yield
    cache.clear()


@pytest.fixture
def clean_event_handlers() -> Iterator[None]:
    """Restore the bus' handler registry after a test that subscribes its own handlers."""
    saved = {event_type: list(handlers) for event_type, handlers in events._handlers.items()}
    yield
    events._handlers.clear()
    events._handlers.update(saved)


JsonLogs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_logs() -> Iterator[JsonLogs]:
    """Every log line written during the test, rendered by the production formatter and
    parsed back from JSON (a line that is not JSON fails the test)."""
    formatter_config = dict(settings.LOGGING["formatters"]["structured"])
    factory = formatter_config.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**formatter_config))
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
