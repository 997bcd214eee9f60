"""Process-wide Redis clients over the default cache's server, for the request path.

Django's ``caches`` are per async context, so under ASGI every request builds a new
``RedisCache`` client with its own connection pool and socket, and its async methods are
thread hops around the sync client. The hot paths (rate limiting, access-token
revocation) instead use one client per process (sync) or per event loop (async) on the
same server, the same key layout (``KEY_PREFIX:VERSION:key``) and the same value format
(integers stored raw), so values written through ``django.core.cache`` and through these
clients are interchangeable.

When the default cache is not Redis (the embedded local-memory cache), :func:`redis_target`
answers ``None`` and callers use ``django.core.cache`` directly: it does no I/O. When the
cache follows Sentinels (``REDIS_SENTINELS``), so do these clients
(``apps.common.redis_sentinel``).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio as aredis
from django.conf import settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from apps.common import redis_sentinel

_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


@dataclass(frozen=True)
class RedisTarget:
    """Where the default cache lives and how it names keys."""

    url: str
    key_prefix: str
    version: int
    connect_timeout: float
    socket_timeout: float
    #: ``((host, port), …)`` of the Sentinels when they name the server, else empty.
    sentinels: tuple[tuple[str, int], ...] = ()
    service_name: str = ""
    sentinel_password: str = field(default="", repr=False)

    def sentinel(self) -> dict[str, Any]:
        """The keyword arguments of ``apps.common.redis_sentinel``'s client factories."""
        return {
            "sentinels": self.sentinels,
            "service_name": self.service_name,
            "sentinel_password": self.sentinel_password,
        }

    def key(self, key: str) -> str:
        """The stored name of ``key``, as Django's default key function makes it."""
        return f"{self.key_prefix}:{self.version}:{key}"


# A pooled connection the server closed (a Redis restart or failover, an idle timeout) fails
# its next command: that command is sent once more on a new connection. Timeouts are not
# retried — a slow server must not double the wait of every request.
_RECONNECT_ON = (RedisConnectionError,)
_target_memo: tuple[object, RedisTarget | None] | None = None
_sync_clients: dict[RedisTarget, redis.Redis] = {}
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[RedisTarget, aredis.Redis]
] = weakref.WeakKeyDictionary()


def redis_target() -> RedisTarget | None:
    """The default cache's Redis server, or ``None`` when the default cache is not Redis.

    Read from the settings (memoised on the settings object, so a test that overrides
    ``CACHES`` gets the new target)."""
    global _target_memo
    conf: dict[str, Any] = settings.CACHES["default"]
    memo = _target_memo
    if memo is not None and memo[0] is conf:
        return memo[1]
    target = _target_from(conf)
    _target_memo = (conf, target)
    return target


def _target_from(conf: dict[str, Any]) -> RedisTarget | None:
    if conf.get("BACKEND") != _REDIS_BACKEND or conf.get("KEY_FUNCTION"):
        return None
    location = conf["LOCATION"]
    url = location[0] if isinstance(location, list | tuple) else str(location).split(",")[0]
    options = conf.get("OPTIONS", {})
    sentinel = redis_sentinel.sentinel_options(options)
    return RedisTarget(
        url=url,
        key_prefix=str(conf.get("KEY_PREFIX", "")),
        version=int(conf.get("VERSION", 1)),
        connect_timeout=float(options.get("socket_connect_timeout", 2)),
        socket_timeout=float(options.get("socket_timeout", 2)),
        sentinels=tuple((str(host), int(port)) for host, port in sentinel.get("sentinels", ())),
        service_name=str(sentinel.get("service_name", "")),
        sentinel_password=str(sentinel.get("sentinel_password", "")),
    )


def sync_client(target: RedisTarget) -> redis.Redis:
    """The process' blocking client for ``target`` (thread-safe; one pool)."""
    client = _sync_clients.get(target)
    if client is None:
        options: dict[str, Any] = {
            "socket_connect_timeout": target.connect_timeout,
            "socket_timeout": target.socket_timeout,
            "retry": Retry(NoBackoff(), 1, supported_errors=_RECONNECT_ON),
        }
        if target.sentinels:
            client = redis_sentinel.sync_client(target.url, sentinel=target.sentinel(), **options)
        else:
            client = redis.Redis.from_url(target.url, **options)
        _sync_clients[target] = client
    return client


def async_client(target: RedisTarget) -> aredis.Redis:
    """The running event loop's client for ``target`` (asyncio connections belong to the
    loop that opened them, so each loop — one per server worker — has its own)."""
    loop = asyncio.get_running_loop()
    clients = _async_clients.get(loop)
    if clients is None:
        clients = _async_clients[loop] = {}
    client = clients.get(target)
    if client is None:
        options: dict[str, Any] = {
            "socket_connect_timeout": target.connect_timeout,
            "socket_timeout": target.socket_timeout,
            "retry": AsyncRetry(NoBackoff(), 1, supported_errors=_RECONNECT_ON),
        }
        if target.sentinels:
            client = redis_sentinel.async_client(target.url, sentinel=target.sentinel(), **options)
        else:
            client = aredis.Redis.from_url(target.url, **options)
        clients[target] = client
    return client
