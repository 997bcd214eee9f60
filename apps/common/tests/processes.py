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

``redis_sentinel`` is a primary, a replica and three Sentinels (``redis-server`` again, in
``--sentinel`` mode); ``pgbouncer`` a PgBouncer in front of the test's PostgreSQL database,
configured from ``deploy/pgbouncer/pgbouncer.ini`` (needs the ``pgbouncer`` binary; the
test must be ``@pytest.mark.postgres``). ``Processes.serve`` starts the API under granian.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import httpx
import psycopg
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


def mail_subjects(mail_dir: Path) -> Counter[str]:
    """Subjects of the emails the file backend wrote to ``mail_dir`` (``TEST_EMAIL_DIR``),
    with how many times each was sent."""
    found: Counter[str] = Counter()
    for path in mail_dir.glob("*.log"):
        for raw in path.read_bytes().split(b"-" * 79):
            if raw.strip():
                subject = message_from_bytes(raw.strip())["Subject"]
                found[str(make_header(decode_header(subject)))] += 1
    return found


# --- redis-server -------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of the test's own on a free port, without persistence: a restart
    is a real outage that also loses every key."""

    def __init__(self, binary: str, workdir: Path, extra: Sequence[str] = ()) -> None:
        self.binary = binary
        self.extra = list(extra)
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
                *self.extra,
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


# --- Redis Sentinel -----------------------------------------------------------------------


class RedisSentinelGroup:
    """A primary, one replica and three Sentinels (quorum 2) of the test's own, on free
    ports, watching the primary as :attr:`name`. Fails over within about a second of a
    primary that stops answering (``down-after-milliseconds`` 1000)."""

    name = "fx-primary"

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.primary = RedisServer(binary, workdir)
        self.replica = RedisServer(
            binary, workdir, extra=["--replicaof", "127.0.0.1", str(self.primary.port)]
        )
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []
        #: What the app's REDIS_URL is in this setup: the host is not used.
        self.url = f"redis://{self.name}/0"

    @property
    def sentinels_env(self) -> str:
        """The value of ``REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def env(self) -> dict[str, str]:
        """The environment that points a project process at this group."""
        return {
            "REDIS_URL": self.url,
            "REDIS_SENTINELS": self.sentinels_env,
            "REDIS_SENTINEL_MASTER": self.name,
        }

    def start(self, timeout: float = 20.0) -> None:
        self.primary.start()
        self.replica.start()
        wait_until(self.replica_synced, timeout=timeout, what="the replica to sync")
        # Each Sentinel is told its peers and the replica up front (as a Sentinel writes
        # them to its own file once it has met them), instead of meeting them over the
        # following seconds.
        ids = {port: uuid.uuid4().hex + uuid.uuid4().hex[:8] for port in self.sentinel_ports}
        for port in self.sentinel_ports:
            conf = self.workdir / f"sentinel-{port}.conf"
            peers = "".join(
                f"sentinel known-sentinel {self.name} 127.0.0.1 {peer} {ids[peer]}\n"
                for peer in self.sentinel_ports
                if peer != port
            )
            conf.write_text(
                f"port {port}\n"
                "bind 127.0.0.1\n"
                f"dir {self.workdir}\n"
                f"logfile {self.workdir / f'sentinel-{port}.log'}\n"
                f"sentinel myid {ids[port]}\n"
                f"sentinel monitor {self.name} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.name} 1000\n"
                f"sentinel failover-timeout {self.name} 5000\n"
                f"sentinel parallel-syncs {self.name} 1\n"
                f"sentinel known-replica {self.name} 127.0.0.1 {self.replica.port}\n"
                f"{peers}"
            )
            self.sentinels.append(
                subprocess.Popen(
                    [self.binary, str(conf), "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        wait_until(self.ready, timeout=timeout, what="the Sentinels to see each other")

    def replica_synced(self) -> bool:
        info = redis.Redis(port=self.replica.port).info("replication")
        return bool(info.get("master_link_status") == "up")

    def sentinel(self, index: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[index], socket_timeout=2, decode_responses=True)

    def ready(self) -> bool:
        """Every Sentinel knows the primary, the replica and the two other Sentinels."""
        try:
            for index in range(len(self.sentinel_ports)):
                sentinel = self.sentinel(index)
                state: Any = sentinel.sentinel_master(self.name)
                replicas: Any = sentinel.sentinel_slaves(self.name)
                if state["num-other-sentinels"] < 2 or not replicas:
                    return False
                # A replica the Sentinel has not had INFO from yet cannot be promoted.
                if any(
                    not r["is_slave"]
                    or r["is_sdown"]
                    or r.get("master-link-status") != "ok"
                    or r.get("info-refresh", 10**9) > 5000
                    for r in replicas
                ):
                    return False
        except redis.RedisError:
            return False
        return True

    def primary_port(self, index: int = 0) -> int | None:
        """The primary's port as Sentinel ``index`` names it."""
        try:
            address: Any = self.sentinel(index).sentinel_get_master_addr_by_name(self.name)
        except redis.RedisError:
            return None
        return int(address[1]) if address else None

    def primary_ports(self) -> set[int | None]:
        """The primary's port as each Sentinel names it."""
        return {self.primary_port(index) for index in range(len(self.sentinel_ports))}

    def failover(self, *, kill: bool = False, timeout: float = 15.0) -> tuple[int, int]:
        """The replica becomes the primary: by ``SENTINEL FAILOVER``, or with ``kill``
        because the primary's process is killed (``SIGKILL``) and the Sentinels agree it
        is down. Returns (old, new) ports once every Sentinel names the new one."""
        old = self.primary_port()
        assert old is not None
        if kill:
            server = self.server(old)
            assert server.process is not None
            server.process.kill()
            server.process.wait(timeout=10)
            server.process = None
        else:
            self.sentinel().execute_command("SENTINEL", "FAILOVER", self.name)

        def agreed_on_a_new_primary() -> bool:
            ports = self.primary_ports()
            return len(ports) == 1 and None not in ports and old not in ports

        wait_until(
            agreed_on_a_new_primary, timeout=timeout, what="every Sentinel to name the new primary"
        )
        new = self.primary_port()
        assert new is not None and new != old
        return old, new

    def server(self, port: int) -> RedisServer:
        return self.primary if self.primary.port == port else self.replica

    def stop_sentinels(self) -> None:
        for process in self.sentinels:
            process.terminate()
        for process in self.sentinels:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.sentinels = []

    def stop(self) -> None:
        self.stop_sentinels()
        self.replica.stop()
        self.primary.stop()


@pytest.fixture(name="redis_sentinel")
def redis_sentinel_fixture(tmp_path: Path) -> Iterator[RedisSentinelGroup]:
    binary = shutil.which("redis-server")
    require(binary is not None, "the redis-server binary is not on PATH")
    assert binary is not None
    workdir = tmp_path / "sentinel"
    workdir.mkdir()
    group = RedisSentinelGroup(binary, workdir)
    try:
        group.start()
        yield group
    finally:
        group.stop()


# --- PgBouncer ----------------------------------------------------------------------------


def deploy_pgbouncer_ini() -> Path:
    return Path(settings.BASE_DIR) / "deploy" / "pgbouncer" / "pgbouncer.ini"


def pgbouncer_binary() -> str | None:
    """``pgbouncer`` on PATH, or where Debian's package puts it (``/usr/sbin``)."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


def pgbouncer_version(binary: str) -> tuple[int, int]:
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", output)
    assert match, f"cannot read the version of {binary}: {output!r}"
    return int(match.group(1)), int(match.group(2))


class PgBouncer:
    """A PgBouncer of the test's own on a free port, in front of the test's PostgreSQL
    database, configured from ``deploy/pgbouncer/pgbouncer.ini``: the deployment's pooling
    settings, with the test's address, trust authentication, and a pool small enough
    (``pool_size`` server connections) that clients really share server connections."""

    def __init__(self, binary: str, workdir: Path, *, pool_size: int = 2, **overrides: str) -> None:
        self.binary = binary
        self.version = pgbouncer_version(binary)
        self.port = free_port()
        db = connection.settings_dict
        self.database = str(db["NAME"])
        self.user = str(db["USER"] or "postgres")
        self.server_host = str(db["HOST"] or "127.0.0.1")
        self.server_port = int(db["PORT"] or 5432)
        self.ini_path = workdir / "pgbouncer.ini"
        self.log_path = workdir / "pgbouncer.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.config = self._config(workdir, pool_size, overrides)

    def _config(
        self, workdir: Path, pool_size: int, overrides: dict[str, str]
    ) -> configparser.ConfigParser:
        config = configparser.ConfigParser(
            interpolation=None, inline_comment_prefixes=None, comment_prefixes=(";", "#")
        )
        config.read_string(deploy_pgbouncer_ini().read_text())
        config.remove_section("databases")
        config.add_section("databases")
        config["databases"][self.database] = (
            f"host={self.server_host} port={self.server_port} dbname={self.database}"
        )
        userlist = workdir / "userlist.txt"
        userlist.write_text(f'"{self.user}" ""\n')
        section = config["pgbouncer"]
        section.update(
            listen_addr="127.0.0.1",
            listen_port=str(self.port),
            auth_type="trust",
            auth_file=str(userlist),
            logfile="",
            admin_users=self.user,
            stats_users=self.user,
            default_pool_size=str(pool_size),
            min_pool_size="0",
            reserve_pool_size="0",
            max_db_connections=str(pool_size),
        )
        if self.version < (1, 21):
            # Prepared-statement tracking came with 1.21; an older PgBouncer refuses the key.
            section.pop("max_prepared_statements", None)
        section.update(overrides)
        return config

    def url(self, application_name: str | None = None) -> str:
        url = f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database}"
        if application_name:
            url += f"?application_name={APPLICATION_PREFIX}{application_name}"
        return url

    def start(self, timeout: float = 10.0) -> None:
        with self.ini_path.open("w") as ini:
            self.config.write(ini)
        # PgBouncer refuses to run as root; it reads its files before it drops privileges.
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, *user, str(self.ini_path)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            self.ping,
            timeout=timeout,
            what=f"pgbouncer on port {self.port}",
            details=lambda: self.log_path.read_text(errors="replace")[-3000:],
        )

    def ping(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"pgbouncer exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            with psycopg.connect(self.url(), connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def admin(self, command: str) -> list[dict[str, object]]:
        """A command of PgBouncer's admin console (``SHOW STATS``, ``SHOW POOLS`` …)."""
        url = f"postgres://{self.user}@127.0.0.1:{self.port}/pgbouncer"
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            cursor = conn.execute(command)
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

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


def start_pgbouncer(workdir: Path, *, pool_size: int = 2, **overrides: str) -> PgBouncer:
    """A started :class:`PgBouncer` with its files in ``workdir`` (created); skips loudly,
    or fails under ``CI=true``, without the binary."""
    assert connection.vendor == "postgresql", "mark the test @pytest.mark.postgres"
    binary = pgbouncer_binary()
    require(binary is not None, "the pgbouncer binary is missing (apt-get install pgbouncer)")
    assert binary is not None
    workdir.mkdir(parents=True, exist_ok=True)
    bouncer = PgBouncer(binary, workdir, pool_size=pool_size, **overrides)
    bouncer.start()
    return bouncer


@pytest.fixture(name="pgbouncer")
def pgbouncer_fixture(tmp_path: Path) -> Iterator[PgBouncer]:
    bouncer = start_pgbouncer(tmp_path / "pgbouncer")
    try:
        yield bouncer
    finally:
        bouncer.stop()


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

    def serve(
        self, name: str, *, env: dict[str, str], timeout: float = 30.0
    ) -> tuple[ManagedProcess, str]:
        """The API under granian (one process) on a free port; returns it and its base
        URL once ``/health/live/`` answers."""
        port = free_port()
        server = self.start(
            name,
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
                "--no-access-log",
                "config.asgi:application",
            ],
            env=env,
        )
        base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if not server.alive():
                raise AssertionError(f"{name} exited:\n{server.tail()}")
            try:
                return httpx.get(f"{base_url}/health/live/", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=timeout, what=f"{name} to serve", details=server.tail)
        return server, base_url

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
