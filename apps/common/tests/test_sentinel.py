"""Redis behind Sentinel (``REDIS_SENTINELS``): the cache, the rate-limit and revocation
clients and the task backend follow the primary the Sentinels name, through a failover.

Real parts: a primary, a replica and three Sentinels of the test's own (``redis-server``,
``--sentinel``); in the end-to-end test the API under granian, the relay and a worker as
separate processes, all on the Sentinel configuration, and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import functools
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.core.cache import caches
from django.tasks import task_backends
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings as SettingsWrapper

from apps.authentication.services import ClientInfo, session_start
from apps.common import outbox
from apps.common.models import OutboxMessage
from apps.common.ratelimit import Rate, rate_limit_consume, rate_limit_consume_async
from apps.common.redis_client import async_client, redis_target, sync_client
from apps.common.redis_sentinel import SentinelRedisTaskBackend
from apps.common.tests import deploy_checks as dc
from apps.common.tests import sample_tasks
from apps.common.tests.processes import (  # noqa: F401 - fixtures
    Processes,
    RedisSentinelGroup,
    child_env,
    mail_subjects,
    processes_fixture,
    redis_sentinel_fixture,
    wait_until,
)
from apps.orders.tests.factories import make_variant
from apps.vendors.tests.factories import UserFactory
from config.env import Env, RedisSentinel, cache_config, sentinel_address, tasks_config

# --- configuration --------------------------------------------------------------------------


def test_sentinel_variables_name_the_sentinels_and_keep_db_and_password_from_redis_url() -> None:
    env = Env(
        REDIS_URL="redis://:s3cret@fashionistar/2",
        REDIS_SENTINELS="sentinel-1:26379, sentinel-2:26380,[fd00::3],10.0.0.4",
        REDIS_SENTINEL_MASTER="shop",
        REDIS_SENTINEL_PASSWORD="sentinel-secret",
    )

    sentinel = env.redis_sentinel()
    cache = cache_config(env.REDIS_URL, sentinel=sentinel)
    tasks = tasks_config("redis", redis_url=env.REDIS_URL, queues=["default"], sentinel=sentinel)

    assert sentinel == RedisSentinel(
        sentinels=(
            ("sentinel-1", 26379),
            ("sentinel-2", 26380),
            ("fd00::3", 26379),
            ("10.0.0.4", 26379),
        ),
        master="shop",
        password="sentinel-secret",
    )
    assert cache["LOCATION"] == "redis://:s3cret@fashionistar/2"
    assert cache["OPTIONS"]["pool_class"] == "apps.common.redis_sentinel.SentinelPool"
    assert cache["OPTIONS"]["service_name"] == "shop"
    assert tasks["BACKEND"] == "apps.common.redis_sentinel.SentinelRedisTaskBackend"
    assert tasks["OPTIONS"]["REDIS_SENTINELS"][0] == ["sentinel-1", 26379]
    assert tasks["OPTIONS"]["REDIS_REPLICA_ACKS"] == 1
    assert Env(REDIS_URL="redis://cache:6379/0", REDIS_SENTINELS="").redis_sentinel() is None
    assert "pool_class" not in cache_config("redis://cache:6379/0")["OPTIONS"]


@pytest.mark.parametrize("bad", ["sentinel-1:notaport", "sentinel-1:0", "user@host:1", ":26379"])
def test_a_malformed_sentinel_address_is_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(ValueError, match="REDIS_SENTINELS"):
        Env(REDIS_URL="redis://x/0", REDIS_SENTINELS=f"ok-host:26379,{bad}")
    with pytest.raises(ValueError, match="host:port"):
        sentinel_address(bad)


def test_sentinels_without_a_redis_url_are_refused() -> None:
    with pytest.raises(ValueError, match="REDIS_SENTINELS needs REDIS_URL"):
        Env(REDIS_URL="", REDIS_SENTINELS="sentinel-1:26379")


def test_the_deploy_files_point_the_app_at_the_sentinels_they_run() -> None:
    data = dc.compose()
    app_env = data["x-app"]["environment"]
    conf = (dc.DEPLOY / "redis" / "sentinel.conf").read_text()
    monitored = re.search(r"^sentinel monitor (\S+) ", conf, re.M)
    port = re.search(r"^port (\d+)$", conf, re.M)
    assert monitored and port
    example = dc.env_file_variables(dc.ENV_EXAMPLE)["REDIS_SENTINELS"]
    sentinel = Env(REDIS_URL=app_env["REDIS_URL"], REDIS_SENTINELS=example).redis_sentinel()
    services = {name for name in data["services"] if name.startswith("redis-sentinel-")}
    configmap = dc.by_kind(dc.k8s_objects(), "ConfigMap")["fashionistar-config"]["data"]

    assert sentinel is not None
    assert app_env["REDIS_SENTINEL_MASTER"] == monitored.group(1)
    assert app_env["REDIS_SENTINELS"] == "${REDIS_SENTINELS:-}"
    assert {host for host, _ in sentinel.sentinels} == services
    assert {number for _, number in sentinel.sentinels} == {int(port.group(1))}
    assert configmap["REDIS_SENTINEL_MASTER"] == monitored.group(1)
    assert configmap["REDIS_SENTINELS"] == "", "off unless the platform runs Sentinels"


# --- clients through a failover ------------------------------------------------------------


def use_sentinel_cache(settings: SettingsWrapper, group: RedisSentinelGroup) -> None:
    sentinel = RedisSentinel(
        sentinels=tuple(("127.0.0.1", port) for port in group.sentinel_ports), master=group.name
    )
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **cache_config(group.url, sentinel=sentinel),
            "KEY_PREFIX": f"fx-sentinel-{uuid.uuid4().hex[:8]}",
        },
    }


def sentinel_tasks_backend(group: RedisSentinelGroup, settings: SettingsWrapper) -> dict[str, Any]:
    sentinel = RedisSentinel(
        sentinels=tuple(("127.0.0.1", port) for port in group.sentinel_ports), master=group.name
    )
    config = tasks_config(
        "redis", redis_url=group.url, queues=settings.TASK_QUEUES, sentinel=sentinel
    )
    config["OPTIONS"].update(REDIS_KEY_PREFIX=f"fx-sentinel-{uuid.uuid4().hex[:8]}")
    return config


@pytest.mark.parametrize("kill", [False, True], ids=["sentinel-failover", "primary-killed"])
def test_cache_rate_limit_and_revocation_clients_follow_a_failover(
    kill: bool, redis_sentinel: RedisSentinelGroup, settings: SettingsWrapper
) -> None:
    use_sentinel_cache(settings, redis_sentinel)
    target = redis_target()
    assert target is not None and target.sentinels
    rate = Rate(100, 3600)
    scope = f"failover-{uuid.uuid4().hex}"
    loop = asyncio.new_event_loop()

    async def consume_async() -> int:
        counts, _ = await rate_limit_consume_async([(scope, "async", rate)])
        return counts[0].count

    async def set_async(key: str) -> None:
        await async_client(target).set(key, 1)

    try:
        caches["default"].set("before", "kept")
        assert rate_limit_consume(scope, "sync", rate).count == 1
        assert loop.run_until_complete(consume_async()) == 1

        old, new = redis_sentinel.failover(kill=kill)
        promoted = redis.Redis(port=new)

        def lands_on_the_new_primary(write: Callable[[str], object]) -> bool:
            key = target.key(f"probe-{uuid.uuid4().hex}")
            write(key)
            return bool(promoted.exists(key))

        # A promoted replica's old primary takes writes until the Sentinels turn it into a
        # replica (seconds later) and then drops them; a killed one refuses connections:
        # either way each client must be on the new primary within its check interval.
        writers: dict[str, Callable[[str], object]] = {
            "the sync client": lambda key: sync_client(target).set(key, 1),
            "the asyncio client": lambda key: loop.run_until_complete(set_async(key)),
            "the cache": lambda key: caches["default"].set(key.split(":", 2)[2], 1),
        }
        for name, write in writers.items():
            wait_until(
                functools.partial(lands_on_the_new_primary, write),
                timeout=3,
                what=f"{name} to write to the new primary ({old} → {new})",
            )
        sync_count = rate_limit_consume(scope, "sync", rate).count
        async_count = loop.run_until_complete(consume_async())
    finally:
        loop.close()

    assert (sync_count, async_count) == (2, 2), "what was written before is on the new primary"
    assert caches["default"].get("before") == "kept"
    assert promoted.info("replication")["role"] == "master"


def test_the_clients_keep_the_primary_they_know_while_no_sentinel_answers(
    redis_sentinel: RedisSentinelGroup, settings: SettingsWrapper
) -> None:
    use_sentinel_cache(settings, redis_sentinel)
    scope = f"no-sentinel-{uuid.uuid4().hex}"
    rate = Rate(100, 3600)
    caches["default"].set("known", 1)
    assert rate_limit_consume(scope, "sync", rate).count == 1

    redis_sentinel.stop_sentinels()
    time.sleep(1.2)  # past the pools' next look for a new primary
    started = time.monotonic()
    count = rate_limit_consume(scope, "sync", rate).count
    cached = caches["default"].get("known")
    elapsed = time.monotonic() - started

    assert (count, cached) == (2, 1)
    assert elapsed < 1.5, f"{elapsed:.2f} s: the lookup must not retry each Sentinel"


# --- the task backend -----------------------------------------------------------------------


def use_sentinel_tasks(settings: SettingsWrapper, group: RedisSentinelGroup) -> str:
    """Make this process's default task backend the Sentinel one; returns its key prefix."""
    prefix = f"fx-sentinel-{uuid.uuid4().hex[:8]}"
    sentinel = RedisSentinel(
        sentinels=tuple(("127.0.0.1", port) for port in group.sentinel_ports), master=group.name
    )
    config = tasks_config(
        "redis", redis_url=group.url, queues=settings.TASK_QUEUES, sentinel=sentinel
    )
    config["OPTIONS"].update(REDIS_KEY_PREFIX=prefix, REDIS_SOCKET_CONNECT_TIMEOUT=1)
    settings.TASKS = {**settings.TASKS, "default": config}
    return prefix


def online_replicas(port: int) -> int:
    info = redis.Redis(port=port).info("replication")
    return sum(
        1 for name, value in info.items() if name.startswith("slave") and value["state"] == "online"
    )


@pytest.mark.django_db
def test_a_task_no_replica_confirmed_stays_in_the_outbox_until_one_does(
    redis_sentinel: RedisSentinelGroup,
    settings: SettingsWrapper,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    use_sentinel_tasks(settings, redis_sentinel)
    backend = task_backends["default"]
    assert isinstance(backend, SentinelRedisTaskBackend)
    replica = redis_sentinel.replica
    assert replica.process is not None

    def enqueue(a: int) -> float:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            sample_tasks.add.enqueue(a, 1)
        return time.monotonic() - started

    # Given a replica that confirms: the task is sent and its outbox message deleted.
    enqueue(1)
    assert not OutboxMessage.objects.exists()
    # When the replica stalls (connected, but answering nothing): WAIT runs out.
    replica.process.send_signal(signal.SIGSTOP)
    try:
        stalled = enqueue(2)
    finally:
        replica.process.send_signal(signal.SIGCONT)
    # When the replica is gone: the primary says so, and nobody waits.
    replica.stop()
    wait_until(lambda: online_replicas(redis_sentinel.primary.port) == 0, what="the replica gone")
    alone = enqueue(3)

    # Then both wait in the outbox, and the relay sends them once a replica is back.
    assert OutboxMessage.objects.count() == 2
    assert 0.5 <= stalled < 3, stalled
    assert alone < 0.5, alone
    replica.start()
    wait_until(redis_sentinel.replica_synced, what="the replica to sync again")
    OutboxMessage.objects.update(available_at=timezone.now())
    assert outbox.relay_pending() == 2
    assert not OutboxMessage.objects.exists()


# --- end to end -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_orders_placed_through_a_failover_are_each_confirmed_exactly_once(
    redis_sentinel: RedisSentinelGroup, processes: Processes, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    prefix = f"fx-failover-{uuid.uuid4().hex[:8]}"

    def env(name: str) -> dict[str, str]:
        # Everything Redis on the Sentinels: the API's cache, rate limits and revocation
        # markers, and every process's task backend.
        return child_env(
            name,
            **redis_sentinel.env(),
            TEST_DEFAULT_TASKS_REDIS_URL=redis_sentinel.url,
            TEST_TASKS_PREFIX=prefix,
            TEST_EMAIL_DIR=str(mail_dir),
            OUTBOX_RELAY_DELAY="0.5",
        )

    _, api = processes.serve("api", env=env("api"))
    processes.manage("relay", "run_relay", "--interval=0.2", env=env("relay"))
    worker = processes.manage(
        "worker", "run_worker", "--queues=*", "--claim-interval=1", env=env("worker")
    )
    token = session_start(user=UserFactory.create(), client=ClientInfo()).access
    variant = make_variant(stock=2000, price="5000.00")
    placed: list[str] = []

    def confirmations() -> dict[str, int]:
        return {s: n for s, n in mail_subjects(mail_dir).items() if s.startswith("Your ")}

    with httpx.Client(
        base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=15
    ) as http:

        def place_order() -> None:
            response = http.post(
                "/api/v2/orders/",
                json={
                    "items": [{"variant_id": variant.pk, "quantity": 1}],
                    "delivery_address": "12 Marina Road, Lagos",
                },
            )
            assert response.status_code == 201, response.text
            placed.append(response.json()["order_number"])

        # Given the processes at work on the primary,
        for _ in range(3):
            place_order()
        wait_until(
            lambda: len(confirmations()) == 3,
            timeout=20,
            what="the first emails",
            details=processes.logs,
        )
        # when the worker falls behind (stopped: what is queued waits in Redis) and the
        # primary fails over while orders keep coming — until the Sentinels have turned the
        # old primary into a replica of the new one, seconds later, which drops whatever
        # was written to it after the promotion —
        failover: dict[str, tuple[int, int]] = {}
        switch = threading.Thread(target=lambda: failover.update(ports=redis_sentinel.failover()))
        worker.signal(signal.SIGSTOP)
        try:
            switch.start()
            deadline = time.monotonic() + 30
            while switch.is_alive() or not demoted(failover["ports"][0]):
                assert switch.is_alive() or "ports" in failover, "the failover did not happen"
                assert time.monotonic() < deadline, "the old primary never became a replica"
                place_order()
                time.sleep(0.05)
        finally:
            switch.join()
            worker.signal(signal.SIGCONT)
        during = len(placed) - 3
        # and after it,
        for _ in range(3):
            place_order()

    # Then every order's confirmation goes out exactly once and the outbox drains.
    def settled() -> bool:
        return len(confirmations()) >= len(placed) and not OutboxMessage.objects.exists()

    wait_until(settled, timeout=40, what="every confirmation", details=processes.logs)
    time.sleep(2)  # a copy sent twice would have run by now
    sent = confirmations()
    old, new = failover["ports"]
    assert sorted(s.rsplit(" ", 1)[1] for s in sent) == sorted(placed)
    assert all(n == 1 for n in sent.values()), (
        f"sent twice: {[s for s, n in sent.items() if n > 1]}"
    )
    assert redis.Redis(port=new).info("replication")["role"] == "master"
    assert during > 20, f"only {during} orders were placed during the failover ({old} → {new})"


def demoted(port: int) -> bool:
    """The server on ``port`` is a replica that has caught up with its primary."""
    info = redis.Redis(port=port, socket_timeout=1).info("replication")
    return info["role"] == "slave" and info.get("master_link_status") == "up"
