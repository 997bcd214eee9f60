"""Fixed-window rate limiting counted in the shared cache.

One counter per (scope, identity, window) lives in Django's default cache — Redis in
production — so every process serving the API agrees on it. On Redis one pipelined round
trip creates the counter (``SET NX EX``) and bumps it (``INCR``), through the process' own
client (``apps.common.redis_client``); in the local-memory cache ``cache.add`` and
``cache.incr`` do it under a lock. Either way concurrent requests never lose a count. The
frameworks' own throttles keep a list of timestamps per client with get-then-set, which
races across processes and grows with the limit.

Limits come from ``settings.RATE_LIMITS`` (``{"anon": "100/hour", ...}``), read on each
call. The API layers plug these functions into their throttle hooks
(``apps.common.apis.throttles``); services may call :func:`rate_limit_hit` directly, for
instance to limit attempts per account.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import structlog
from django.conf import settings
from django.core.cache import cache

from apps.common.errors import RateLimited
from apps.common.redis_client import async_client, redis_target, sync_client

logger = structlog.get_logger(__name__)

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"100/hour"``, ``"5/min"``, ``"30/10m"``, ``"1/60s"`` → a Rate.

        Units: s/sec/second, m/min/minute, h/hour, d/day (plurals accepted), optionally
        preceded by a count. Raises ValueError naming the accepted form.
        """
        return _parse_rate(text)

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s"


@lru_cache(maxsize=64)
def _parse_rate(text: str) -> Rate:
    # Cached: every request parses the configured rate, and the strings are few.
    match = _RATE_PATTERN.match(text)
    unit = _UNITS.get(match.group(3).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"invalid rate {text!r}: expected '<requests>/<period>' such as '100/hour', "
            "'5/min', '30/10m' or '20/day' (units: s, m, min, h, hour, d, day)"
        )
    limit = int(match.group(1))
    multiplier = int(match.group(2) or 1)
    if limit < 1 or multiplier < 1:
        raise ValueError(f"invalid rate {text!r}: requests and period must be at least 1")
    return Rate(limit=limit, period=multiplier * unit)


@dataclass(frozen=True)
class RateLimitUsage:
    """The outcome of one counted request: ``count`` of ``limit`` used in this window,
    ``retry_after`` seconds until the window ends (at least 1)."""

    count: int
    limit: int
    retry_after: int
    allowed: bool


def rate_for(name: str) -> Rate:
    """The rate configured under ``settings.RATE_LIMITS[name]``.

    Raises KeyError for an unknown name and ValueError for a malformed rate.
    """
    return Rate.parse(settings.RATE_LIMITS[name])


def rate_limit_key(scope: str, ident: str, window: int) -> str:
    """The cache key of one counter. The identity is hashed: it may be an email address
    or an IP address, which do not belong in the cache in clear."""
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"{settings.RATE_LIMIT_KEY_PREFIX}:{scope}:{digest}:{window}"


def _window(rate: Rate) -> tuple[int, int]:
    """The current window's number and the seconds until it ends (at least 1)."""
    now = time.time()
    window = int(now // rate.period)
    return window, max(1, math.ceil((window + 1) * rate.period - now))


def _usage(count: int, rate: Rate, retry_after: int) -> RateLimitUsage:
    return RateLimitUsage(
        count=count, limit=rate.limit, retry_after=retry_after, allowed=count <= rate.limit
    )


def _unavailable(scope: str, rate: Rate, retry_after: int, exc: Exception) -> RateLimitUsage:
    # Fail open: an unreachable cache must not take the whole API down with it. The
    # limits protect against abuse; going without them for the length of a cache
    # outage is the lesser harm, and this error makes the outage visible.
    logger.error(
        "ratelimit.cache_unavailable",
        scope=scope,
        error_type=type(exc).__name__,
        error=str(exc),
    )
    return RateLimitUsage(count=0, limit=rate.limit, retry_after=retry_after, allowed=True)


def rate_limit_consume(scope: str, ident: str, rate: Rate | str) -> RateLimitUsage:
    """Count one request of ``ident`` in ``scope`` and say whether it is within ``rate``.

    Windows are aligned to the period (an hourly limit resets on the hour). On Redis the
    count is one round trip (``SET NX EX`` + ``INCR`` pipelined). If the cache cannot be
    reached the request is allowed and the failure logged. Raises ValueError for a
    malformed rate string.
    """
    if isinstance(rate, str):
        rate = Rate.parse(rate)
    window, retry_after = _window(rate)
    key = rate_limit_key(scope, ident, window)
    try:
        target = redis_target()
        if target is None:
            count = _increment_in_django_cache(key, timeout=rate.period + 1)
        else:
            pipe = sync_client(target).pipeline(transaction=False)
            pipe.set(target.key(key), 0, ex=rate.period + 1, nx=True)
            pipe.incr(target.key(key))
            count = int(pipe.execute()[1])
    except Exception as exc:
        return _unavailable(scope, rate, retry_after, exc)
    return _usage(count, rate, retry_after)


async def rate_limit_consume_async(
    counters: Sequence[tuple[str, str, Rate]], *, peek: Sequence[str] = ()
) -> tuple[list[RateLimitUsage], list[bool] | None]:
    """:func:`rate_limit_consume` for the event loop, for each ``(scope, ident, rate)`` of
    ``counters``, and whether each cache key in ``peek`` exists — all in one Redis round
    trip on the async client, so the caller (authentication) pays a single network wait
    for its revocation check and every rate limit of the request together. When the cache
    cannot be reached every count is allowed (and logged) and the peek is ``None``.
    Without Redis (local-memory cache) the work is in-process and done inline.
    """
    windows = [(scope, rate, *_window(rate)) for scope, _, rate in counters]
    keys = [
        rate_limit_key(scope, ident, window)
        for (scope, ident, _), (_, _, window, _) in zip(counters, windows, strict=True)
    ]
    try:
        target = redis_target()
        if target is None:
            counts = [
                _increment_in_django_cache(key, timeout=rate.period + 1)
                for key, (_, rate, _, _) in zip(keys, windows, strict=True)
            ]
            found = cache.get_many(list(peek))
            present = [name in found for name in peek]
        else:
            pipe = async_client(target).pipeline(transaction=False)
            for key, (_, rate, _, _) in zip(keys, windows, strict=True):
                pipe.set(target.key(key), 0, ex=rate.period + 1, nx=True)
                pipe.incr(target.key(key))
            for name in peek:
                pipe.exists(target.key(name))
            results = await pipe.execute()
            counts = [int(count) for count in results[1 : 2 * len(keys) : 2]]
            present = [bool(value) for value in results[2 * len(keys) :]]
    except Exception as exc:
        return [
            _unavailable(scope, rate, retry_after, exc) for scope, rate, _, retry_after in windows
        ], None
    return [
        _usage(count, rate, retry_after)
        for count, (_, rate, _, retry_after) in zip(counts, windows, strict=True)
    ], present


def _increment_in_django_cache(key: str, *, timeout: int) -> int:
    # add() is a no-op when the counter exists, so exactly one request creates it.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The counter expired between add() and incr(); start it again, once.
        cache.add(key, 0, timeout=timeout)
        return cache.incr(key)


def rate_limit_hit(scope: str, ident: str, rate: Rate | str) -> None:
    """Count one request and refuse it when over the limit.

    Raises RateLimited (429, with ``retry_after`` in seconds) when ``ident`` has used up
    ``rate`` in ``scope`` for the current window.
    """
    usage = rate_limit_consume(scope, ident, rate)
    if not usage.allowed:
        unit = "second" if usage.retry_after == 1 else "seconds"
        raise RateLimited(
            f"Too many requests; try again in {usage.retry_after} {unit}.",
            retry_after=usage.retry_after,
        )
