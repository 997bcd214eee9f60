"""Acceptance: a logged-out access token stays refused after the app process restarts and
after the cache is flushed — on both API layers, against the served app (granian) and
the test database, as in production.

``test_revocation.py`` proves the same in-process (a cleared cache, an unreachable one);
here the process that saw the logout is gone: a new one starts with an empty memory and
must still refuse the token, because the revocation lives in the database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from apps.authentication.tests.conftest import PASSWORD
from apps.common.tests.processes import (  # noqa: F401 - fixtures
    ManagedProcess,
    Processes,
    RedisServer,
    child_env,
    free_port,
    processes_fixture,
    redis_server_fixture,
    wait_until,
)
from apps.vendors.tests.factories import StoreFactory, VendorFactory

# The served app reads what this test writes: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

V2_ME = "/api/v2/auth/me/"
V1_STORE = "/api/v1/vendor/store/"
GRANIAN = str(Path(sys.executable).with_name("granian"))


class App:
    """The ASGI app served by granian in a process of its own, on the test database."""

    def __init__(self, processes: Processes, env: dict[str, str]) -> None:
        self.processes, self.env = processes, env
        self.process: ManagedProcess | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        argv = [GRANIAN, "--interface", "asginl", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", "1", "--no-access-log", "config.asgi:application"]
        self.process = self.processes.start("api", argv, env=self.env)
        wait_until(self._live, what="the app to answer", details=self.processes.logs)

    def stop(self) -> None:
        assert self.process is not None
        self.process.process.terminate()
        self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _live(self) -> bool:
        assert self.process is not None and self.process.alive(), self.processes.logs()
        try:
            return httpx.get(f"{self.url}/health/live/", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, timeout=10)

    def statuses(self, access: str) -> tuple[int, int]:
        """What v2 and v1 answer to ``access``."""
        headers = {"Authorization": f"Bearer {access}"}
        return tuple(  # type: ignore[return-value]
            httpx.get(f"{self.url}{path}", headers=headers, timeout=10).status_code
            for path in (V2_ME, V1_STORE)
        )


@pytest.fixture(params=["redis", "local memory"])
def app(request: pytest.FixtureRequest, processes: Processes) -> Iterator[tuple[App, Any]]:
    """The served app, and a function that flushes its cache (Redis: FLUSHALL on a
    redis-server of the test's own; local memory: nothing outside the process can — the
    restart is the flush)."""
    env = child_env("api", LOG_FORMAT="json", LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)
    flush = None
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        env["REDIS_URL"] = server.url
        flush = redis.Redis.from_url(server.url).flushall
    served = App(processes, env)
    served.start()
    yield served, flush


def test_a_logged_out_token_is_refused_after_a_restart_and_a_flush(
    app: tuple[App, Any],
) -> None:
    served, flush = app
    vendor = VendorFactory.create(email="restart@example.com")
    StoreFactory.create(owner=vendor)
    credentials = {"email": vendor.email, "password": PASSWORD}
    leaving = served.post("/api/v2/auth/login/", credentials).json()
    staying = served.post("/api/v2/auth/login/", credentials).json()
    assert served.statuses(leaving["access"]) == (200, 200)

    logout = served.post("/api/v2/auth/logout/", {"refresh": leaving["refresh"]})

    assert logout.status_code == 204
    assert served.statuses(leaving["access"]) == (401, 401)

    served.restart()  # a new process: nothing of the old one's memory

    assert served.statuses(leaving["access"]) == (401, 401)
    assert served.statuses(staying["access"]) == (200, 200)  # not everyone is refused

    if flush is not None:
        flush()  # a flushed (or replaced) Redis: no marker left, the database decides
        assert served.statuses(leaving["access"]) == (401, 401)
        assert served.statuses(staying["access"]) == (200, 200)

    served.restart()
    if flush is not None:
        flush()  # both at once: a fresh process on an empty cache

    assert served.statuses(leaving["access"]) == (401, 401)
    assert served.statuses(staying["access"]) == (200, 200)
