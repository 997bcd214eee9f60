"""Real processes and real services for tests: a test-owned ``redis-server``, project
commands started as subprocesses, and helpers to wait for and to break things.

Fixtures (import them into a test module to use them)::

    from apps.common.tests.processes import processes_fixture, redis_server_fixture  # noqa: F401

    def test_x(redis_server: RedisServer, processes: Processes) -> None:
        worker = processes.manage("worker", "run_worker", "--backend=redis",
                                  env=child_env(REDIS_URL=redis_server.url))
        redis_server.restart()

``redis_server`` needs the ``redis-server`` binary: without it the test is skipped with
a loud reason, or fails under ``CI=true``. Database faults (:func:`database_backends_terminate`)
need PostgreSQL; mark those tests ``@pytest.mark.postgres``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
#: Prefix of the PostgreSQL ``application_name`` of every process started here, so that a
#: test terminates the connections of its own processes and nothing else.
APPLICATION_PREFIX = "fx-proc-"


def require(condition: bool, reason: str) -> None:
    """Skip loudly when a service or binary is missing — fail instead under ``CI=true``."""
    if condition:
        return
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(f"SERVICE MISSING — {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = 30.0,
    what: str = "the condition",
    interval: float = 0.05,
    details: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds, with
    ``details()`` (e.g. process logs) in the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    extra = f"\n{details()}" if details else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{extra}")


# --- redis-server -------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of the test's own on a free port, without persistence: a restart
    is a real outage that also loses every key."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=timeout, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self, *, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def ping(self) -> bool:
        try:
            client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
            return bool(client.ping())
        except redis.RedisError:
            return False


@pytest.fixture(name="redis_server")
def redis_server_fixture(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    require(binary is not None, "the redis-server binary is not on PATH")
    assert binary is not None
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- project processes --------------------------------------------------------------------


def shared_database_url(application_name: str | None = None) -> str:
    """The URL of the database this test uses, for a child process to use it too."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if application_name:
        url += f"?application_name={APPLICATION_PREFIX}{application_name}"
    return url


def child_env(name: str = "child", **overrides: str) -> dict[str, str]:
    """Environment of a project process on the test's database (config.settings.test)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": shared_database_url(name),
        "LOG_FORMAT": "console",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


def database_backends_terminate() -> int:
    """Kill the server side of every connection the started processes hold to the test
    database (PostgreSQL only); returns how many were killed."""
    assert connection.vendor == "postgresql", "mark the test @pytest.mark.postgres"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name LIKE %s"
            " AND pid <> pg_backend_pid()",
            [f"{APPLICATION_PREFIX}%"],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass
class ManagedProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def signal(self, signum: int) -> None:
        if self.alive():
            self.process.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        return self.process.wait(timeout=timeout)


@dataclass
class Processes:
    """Starts processes with their output in a log file each; stops what is left at the
    end of the test (SIGTERM, then SIGKILL)."""

    workdir: Path
    started: list[ManagedProcess] = field(default_factory=list)

    def start(self, name: str, argv: list[str], *, env: dict[str, str]) -> ManagedProcess:
        log_path = self.workdir / f"{name}-{len(self.started)}.log"
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                argv,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        managed = ManagedProcess(name, process, log_path)
        self.started.append(managed)
        return managed

    def manage(self, name: str, *command: str, env: dict[str, str]) -> ManagedProcess:
        """``manage.py <command>`` in the project's interpreter."""
        return self.start(name, [sys.executable, "manage.py", *command], env=env)

    def python(self, name: str, code: str, *args: str, env: dict[str, str]) -> ManagedProcess:
        """``python -c code args…`` in the project directory."""
        return self.start(name, [sys.executable, "-c", code, *args], env=env)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (pid {p.pid})\n{p.tail()}" for p in self.started)

    def stop_all(self) -> None:
        for managed in self.started:
            managed.signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for managed in self.started:
            try:
                managed.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                managed.process.kill()
                managed.process.wait(timeout=10)


@pytest.fixture(name="processes")
def processes_fixture(tmp_path: Path) -> Iterator[Processes]:
    group = Processes(tmp_path)
    try:
        yield group
    finally:
        group.stop_all()
        print(group.logs())  # shown by pytest when the test failed
