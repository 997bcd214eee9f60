"""Long-running loops that outlive passing faults of PostgreSQL and Redis.

:func:`run_loop` calls a step function until SIGTERM/SIGINT. A step that fails because a
service blinked (a killed database connection, a Redis restart, a refused socket) is
logged as a warning; the loop drops this thread's database connections, waits — an
exponential back-off with jitter, capped at 30 s and reset by the next success — and
carries on. Any other error is logged with its traceback and backed off the same way: the
process keeps going and only a signal ends it. The first signal lets the current step
finish; a second one exits at once (``GracefulShutdown`` of django-tasks-redis, which the
Redis worker's blocking read also watches).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import psycopg_pool
import redis
import structlog
from django.db import InterfaceError, OperationalError, connections
from django_tasks_redis import GracefulShutdown

logger = structlog.get_logger("fashionistar.loops")

#: Errors a later attempt can get past once the service is back.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,
)

Step = Callable[[], object]


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


@dataclass
class Backoff:
    """Exponential back-off with jitter: ``base·2ⁿ`` seconds (at most ``cap``), each
    delay drawn from its upper half so that processes failing together spread out."""

    base: float = 0.5
    cap: float = 30.0
    failures: int = field(default=0, init=False)

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** (self.failures - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


def release_connections(*, after_error: bool = False) -> None:
    """Hand this thread's database connections back, dropping broken ones.

    After an error (or when Django saw one on a connection), the connection is closed
    outright and the PostgreSQL pool checks its idle connections, so that the next
    statement does not meet another connection the server has already killed.
    """
    for conn in connections.all(initialized_only=True):
        broken = after_error or conn.errors_occurred
        try:
            if broken:
                conn.close()
            else:
                conn.close_if_unusable_or_obsolete()
        except Exception as error:  # a dead server may refuse even this
            logger.debug("loop.close_failed", alias=conn.alias, error=_describe(error))
        if broken:
            _check_pool(conn)


def ensure_usable_connection(attempts: int = 3) -> None:
    """Make the default connection one that answers, before work that must not fail
    half-way on a connection the server killed while it idled in the pool.

    Raises the last database error when no usable connection can be had.
    """
    conn = connections["default"]
    for attempt in range(1, attempts + 1):
        conn.ensure_connection()
        if conn.is_usable():
            return
        logger.info("loop.dead_connection_replaced", attempt=attempt)
        conn.close()
        _check_pool(conn)
    conn.ensure_connection()
    with conn.cursor() as cursor:  # raises the server's error for the caller's back-off
        cursor.execute("SELECT 1")


def _check_pool(conn: object) -> None:
    settings_dict = getattr(conn, "settings_dict", {})
    if not settings_dict.get("OPTIONS", {}).get("pool"):
        return
    try:
        conn.pool.check()  # type: ignore[attr-defined]
    except Exception as error:
        logger.debug("loop.pool_check_failed", error=_describe(error))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip()


def run_loop(
    step: Step,
    *,
    name: str,
    shutdown: GracefulShutdown,
    idle_seconds: float,
    backoff: Backoff | None = None,
) -> None:
    """Call ``step`` until ``shutdown`` is set.

    A truthy return value (work was done) calls it again at once; a falsy one waits
    ``idle_seconds`` first. Waits end early when a shutdown is requested.
    """
    backoff = backoff or Backoff()
    logger.info("loop.started", loop=name)
    while not shutdown.is_set():
        release_connections()
        try:
            busy = step()
        except TRANSIENT_ERRORS as error:
            delay = backoff.next_delay()
            logger.warning(
                "loop.transient_error",
                loop=name,
                error=_describe(error),
                failures=backoff.failures,
                retry_in=round(delay, 2),
            )
            release_connections(after_error=True)
            shutdown.wait(delay)
            continue
        except Exception:
            delay = backoff.next_delay()
            logger.exception(
                "loop.step_failed", loop=name, failures=backoff.failures, retry_in=round(delay, 2)
            )
            release_connections(after_error=True)
            shutdown.wait(delay)
            continue
        if backoff.failures:
            logger.info("loop.recovered", loop=name, failures=backoff.failures)
            backoff.reset()
        if not busy:
            shutdown.wait(idle_seconds)
    release_connections()
    logger.info("loop.stopped", loop=name)


class Every:
    """True at most once per ``seconds`` (the first call included): throttles a side
    step, such as a recovery sweep, inside a faster loop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True
