"""The process' Redis clients survive the server dropping their connections (a restart,
a failover, an idle timeout): the next request is counted, not let through blind."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis

from apps.common.ratelimit import Rate, rate_limit_consume, rate_limit_consume_async
from apps.common.redis_client import async_client, redis_target, sync_client
from conftest import JsonLogs

pytestmark = pytest.mark.redis


def _kill_clients(ids: set[int]) -> None:
    admin = redis.Redis.from_url(os.environ["REDIS_URL"])
    for client_id in ids:
        admin.client_kill_filter(_id=str(client_id))
    admin.close()


def test_the_sync_client_reconnects_after_the_server_drops_it(json_logs: JsonLogs) -> None:
    target = redis_target()
    assert target is not None
    scope = f"drop-{uuid.uuid4().hex}"
    assert rate_limit_consume(scope, "client", Rate(10, 3600)).count == 1
    _kill_clients({sync_client(target).client_id()})

    assert rate_limit_consume(scope, "client", Rate(10, 3600)).count == 2
    assert not [line for line in json_logs() if line["message"] == "ratelimit.cache_unavailable"]


def test_the_async_client_reconnects_after_the_server_drops_it(json_logs: JsonLogs) -> None:
    target = redis_target()
    assert target is not None
    scope = f"drop-{uuid.uuid4().hex}"
    rate = Rate(10, 3600)

    async def scenario() -> list[int]:
        first, _ = await rate_limit_consume_async([(scope, "client", rate)])
        _kill_clients({await async_client(target).client_id()})
        second, _ = await rate_limit_consume_async([(scope, "client", rate)])
        return [first[0].count, second[0].count]

    assert asyncio.run(scenario()) == [1, 2]
    assert not [line for line in json_logs() if line["message"] == "ratelimit.cache_unavailable"]
