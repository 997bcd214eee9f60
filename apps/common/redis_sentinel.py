"""Redis behind Sentinel: clients that follow the primary, and a task backend that counts a
task as sent only once a replica holds it.

``REDIS_SENTINELS`` (``config.env``) turns every Redis client of the app into one of these:

* the default cache — Django's ``RedisCache`` builds its pool with ``OPTIONS["pool_class"]``
  = :class:`SentinelPool` (``from_url`` reads the Sentinel keys of the same ``OPTIONS``);
* the process-wide clients of rate limits and revocation markers
  (``apps.common.redis_client``), sync and asyncio;
* the task backend, :class:`SentinelRedisTaskBackend` — django-tasks-redis' backend with
  its one client factory (``get_client``) replaced.

A connection asks the Sentinels for the primary when it connects, and a pool asks again at
most every :data:`MASTER_CHECK_SECONDS` while it is used, closing the connections to a
former primary: after ``SENTINEL FAILOVER`` the old primary keeps accepting writes for
several seconds (until the Sentinels turn it into a replica), and whatever is written to it
meanwhile is dropped when it resynchronises. A command that meets a primary turned replica
(``READONLY``) fails with ``ConnectionError`` and is sent once more on a new connection.

Replication is asynchronous, so a task written just before the primary fails can be lost.
The task backend therefore waits (``WAIT``) for ``REDIS_REPLICA_ACKS`` replicas after each
enqueue and raises :class:`NotReplicated` when they do not confirm in time; the outbox then
keeps the message and the relay sends it again — the copy that did get through runs, and
the task receipt skips the other. See docs/adr/0008-redis-sentinel.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio as aredis
from django.tasks import Task, TaskResult
from django_tasks_redis import RedisTaskBackend
from django_tasks_redis.utils import get_connection_options
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelConnectionPool
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

#: How often (seconds) a pool in use asks the Sentinels whether the primary moved.
MASTER_CHECK_SECONDS = 1.0
#: How much longer it waits after no Sentinel answered.
SENTINELS_DOWN_BACKOFF = 5.0

_SENTINEL_KEYS = ("sentinels", "service_name", "sentinel_password", "master_check_interval")


class NotReplicated(redis.ConnectionError):
    """A write reached the primary, but no replica confirmed it in time: a failover now
    could lose it."""


def master_kwargs(url: str) -> dict[str, Any]:
    """What ``REDIS_URL`` says about the monitored Redis besides where it is: database,
    user name, password, TLS (``rediss://``) and any ``?option=``; host and port are the
    Sentinels' business."""
    if urlsplit(url).scheme not in {"redis", "rediss"}:
        raise ValueError("a Sentinel-managed Redis needs a redis:// or rediss:// URL")
    kwargs = parse_url(url)
    kwargs.pop("host", None)
    kwargs.pop("port", None)
    if kwargs.pop("connection_class", None) is not None:
        kwargs["ssl"] = True
    return kwargs


def _connection_kwargs(url: str, connection_kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs = {**master_kwargs(url), **connection_kwargs}
    # A command that meets a former primary (READONLY, or a connection it closed) is sent
    # once more, on a connection to the primary the Sentinels name now. Timeouts are not
    # retried: a slow server must not double every wait.
    kwargs.setdefault("retry", Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)))
    return kwargs


def _sentinel_kwargs(
    password: str, connection_kwargs: dict[str, Any], retry: Retry | AsyncRetry
) -> dict[str, Any]:
    # Bounded, whatever the data connections allow: the worker's connections have no read
    # timeout (their reads block), but a hung Sentinel must not hang a lookup. No retry:
    # the next Sentinel is the retry (redis-py's default would back off for seconds on
    # each one that is down before asking the next).
    timeout = float(connection_kwargs.get("socket_connect_timeout") or 2)
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": retry,
    }
    if password:
        kwargs["password"] = password
    return kwargs


def _addresses(sentinels: Iterable[Sequence[Any]]) -> list[tuple[str, int]]:
    return [(str(host), int(port)) for host, port in sentinels]


class SentinelPool(SentinelConnectionPool):
    """A pool of connections to the primary the Sentinels name, that notices a move
    within :data:`MASTER_CHECK_SECONDS` while it is used."""

    def __init__(
        self,
        service_name: str,
        sentinel_manager: Sentinel,
        *,
        master_check_interval: float = MASTER_CHECK_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)
        self.master_check_interval = master_check_interval
        self._master_checked_at = float("-inf")

    @classmethod
    def create(
        cls,
        url: str,
        *,
        sentinels: Iterable[Sequence[Any]],
        service_name: str,
        sentinel_password: str = "",
        master_check_interval: float = MASTER_CHECK_SECONDS,
        **connection_kwargs: Any,
    ) -> SentinelPool:
        """A new pool for the primary of ``service_name``; ``url`` as in :func:`master_kwargs`."""
        kwargs = _connection_kwargs(url, connection_kwargs)
        manager = Sentinel(
            _addresses(sentinels),
            sentinel_kwargs=_sentinel_kwargs(sentinel_password, kwargs, Retry(NoBackoff(), 0)),
        )
        return cls(service_name, manager, master_check_interval=master_check_interval, **kwargs)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SentinelPool:
        """Django's ``RedisCache`` entry point (``OPTIONS["pool_class"]``). Django builds a
        cache client — and so a pool — per thread and per async context; they all share
        one pool per process instead, so that a request does not ask the Sentinels anew."""
        key = (url, tuple(sorted((k, repr(v)) for k, v in kwargs.items() if k != "driver_info")))
        with _shared_lock:
            pool = _shared_pools.get(key)
            if pool is None:
                pool = _shared_pools[key] = cls.create(url, **kwargs)
        return pool

    def recheck_master(self) -> None:
        """Ask the Sentinels on the next command (after a sign that the primary moved)."""
        self._master_checked_at = float("-inf")

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - self._master_checked_at >= self.master_check_interval:
            self._master_checked_at = now
            # Closes the idle connections when the primary moved; busy ones are closed as
            # they come back (``owns_connection``).
            try:
                self.get_master_address()
            except (redis.ConnectionError, redis.TimeoutError):
                # No Sentinel answers: keep the primary we know, and ask less often.
                self._master_checked_at = time.monotonic() + SENTINELS_DOWN_BACKOFF
        return super().get_connection(*args, **kwargs)


_shared_lock = threading.Lock()
_shared_pools: dict[tuple[str, tuple[tuple[str, str], ...]], SentinelPool] = {}


class AsyncSentinelPool(AsyncSentinelConnectionPool):
    """:class:`SentinelPool` for ``redis.asyncio`` (one per event loop)."""

    def __init__(
        self,
        service_name: str,
        sentinel_manager: AsyncSentinel,
        *,
        master_check_interval: float = MASTER_CHECK_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)
        self.master_check_interval = master_check_interval
        self._master_checked_at = float("-inf")

    @classmethod
    def create(
        cls,
        url: str,
        *,
        sentinels: Iterable[Sequence[Any]],
        service_name: str,
        sentinel_password: str = "",
        master_check_interval: float = MASTER_CHECK_SECONDS,
        **connection_kwargs: Any,
    ) -> AsyncSentinelPool:
        kwargs = _connection_kwargs(url, connection_kwargs)
        if not isinstance(kwargs["retry"], AsyncRetry):
            kwargs["retry"] = AsyncRetry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
        manager = AsyncSentinel(
            _addresses(sentinels),
            sentinel_kwargs=_sentinel_kwargs(sentinel_password, kwargs, AsyncRetry(NoBackoff(), 0)),
        )
        return cls(service_name, manager, master_check_interval=master_check_interval, **kwargs)

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - self._master_checked_at >= self.master_check_interval:
            self._master_checked_at = now
            try:
                await self.get_master_address()
            except (redis.ConnectionError, redis.TimeoutError):
                self._master_checked_at = time.monotonic() + SENTINELS_DOWN_BACKOFF
        return await super().get_connection(*args, **kwargs)


def sentinel_options(options: dict[str, Any]) -> dict[str, Any]:
    """The Sentinel keys of a ``CACHES`` entry's ``OPTIONS``."""
    return {key: options[key] for key in _SENTINEL_KEYS if key in options}


# --- the task backend ---------------------------------------------------------------------


class SentinelRedisTaskBackend(RedisTaskBackend):
    """django-tasks-redis on a Sentinel-managed Redis.

    Options besides the library's: ``REDIS_SENTINELS`` (``[[host, port], …]``),
    ``REDIS_SENTINEL_MASTER``, ``REDIS_SENTINEL_PASSWORD``; ``REDIS_URL`` gives the
    database and password. ``REDIS_REPLICA_ACKS`` replicas (default 1; 0 turns the check
    off) must confirm each enqueue within ``REDIS_REPLICA_ACK_TIMEOUT`` seconds (0.5).
    """

    #: Seconds a count of the primary's online replicas is trusted.
    REPLICA_COUNT_TTL = 1.0

    _client: redis.Redis | None

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.replica_acks = int(self.options.get("REDIS_REPLICA_ACKS", 1))
        self.replica_ack_timeout = float(self.options.get("REDIS_REPLICA_ACK_TIMEOUT", 0.5))
        self._replicas_online = 0
        self._replicas_counted_at = float("-inf")

    def get_client(self) -> redis.Redis:
        if self._client is None:
            pool = SentinelPool.create(
                self.options["REDIS_URL"],
                sentinels=self.options["REDIS_SENTINELS"],
                service_name=self.options.get("REDIS_SENTINEL_MASTER", "fashionistar"),
                sentinel_password=self.options.get("REDIS_SENTINEL_PASSWORD", ""),
                decode_responses=True,
                **get_connection_options(self.options),
            )
            self._client = redis.Redis.from_pool(pool)
        return self._client

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        """Enqueue as the library does, then make sure a replica holds the task.

        Raises :class:`NotReplicated` when none confirms in time: the task may still run
        (it is on the primary), but the caller must keep it to send again."""
        result: TaskResult[Any, Any] = super().enqueue(task, args, kwargs)
        self.confirm_replicated()
        return result

    def confirm_replicated(self) -> None:
        """Return once ``replica_acks`` replicas hold every write made so far; raise
        :class:`NotReplicated` otherwise (at once when the primary has too few replicas)."""
        if self.replica_acks <= 0:
            return
        client = self.get_client()
        if self._online_replicas(client) < self.replica_acks:
            self._primary_suspect(client)
            raise NotReplicated(
                f"the Redis primary has fewer than {self.replica_acks} online replica(s)"
            )
        # WAIT counts from the last write of its own connection, and replication is one
        # ordered stream: a write of ours followed by WAIT on one connection (a pipeline
        # uses one) covers everything written before it, the enqueue included.
        with client.pipeline(transaction=False) as pipe:
            pipe.set(f"{self.key_prefix}:replication-probe", "1", ex=60)
            pipe.wait(self.replica_acks, max(1, int(self.replica_ack_timeout * 1000)))
            _, acked = pipe.execute()
        if int(acked) < self.replica_acks:
            self._primary_suspect(client)
            raise NotReplicated(
                f"{acked} of {self.replica_acks} replica(s) confirmed the task within"
                f" {self.replica_ack_timeout:g} s"
            )

    def _online_replicas(self, client: redis.Redis) -> int:
        now = time.monotonic()
        if now - self._replicas_counted_at >= self.REPLICA_COUNT_TTL:
            info: dict[str, Any] = client.info("replication")
            self._replicas_online = sum(
                1
                for name, value in info.items()
                if name.startswith("slave") and isinstance(value, dict)
                if value.get("state") == "online"
            )
            self._replicas_counted_at = now
        return self._replicas_online

    def _primary_suspect(self, client: redis.Redis) -> None:
        # A primary without replicas may be a former one the Sentinels replaced: ask them
        # on the next command, and count the replicas again then.
        self._replicas_counted_at = float("-inf")
        pool = client.connection_pool
        if isinstance(pool, SentinelPool):
            pool.recheck_master()


def sync_client(url: str, *, sentinel: dict[str, Any], **connection_kwargs: Any) -> redis.Redis:
    """A blocking client for the primary (``sentinel``: the Sentinel keys of the cache's
    ``OPTIONS``)."""
    return redis.Redis.from_pool(SentinelPool.create(url, **sentinel, **connection_kwargs))


def async_client(url: str, *, sentinel: dict[str, Any], **connection_kwargs: Any) -> aredis.Redis:
    """An asyncio client for the primary, for the running event loop."""
    return aredis.Redis.from_pool(AsyncSentinelPool.create(url, **sentinel, **connection_kwargs))
