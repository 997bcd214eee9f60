"""Throttle hooks for both API layers over the one shared-cache limiter.

The ``anon`` and ``user`` scopes are the same counters on v1 and v2: a user's hourly
allowance is spent across both APIs together, and so is an address's.

On v2 the count is usually taken before the throttle runs: bearer authentication (async)
counts the request in the same Redis round trip as its revocation check
(:func:`precount`), and the throttle — which Ninja calls synchronously — only reads the
result. A throttle whose scope was not counted ahead counts for itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from ninja.throttling import BaseThrottle as NinjaBaseThrottle
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle as DrfBaseThrottle

from apps.common.http import client_ip
from apps.common.ratelimit import (
    RateLimitUsage,
    rate_for,
    rate_limit_consume,
    rate_limit_consume_async,
)

_PRECOUNTED = "_fashionistar_rate_usage"


def _consume(scope: str, ident: str) -> RateLimitUsage:
    return rate_limit_consume(scope, ident, rate_for(scope))


async def precount(
    request: HttpRequest, counters: Sequence[tuple[str, str | None]], *, peek: Sequence[str] = ()
) -> list[bool] | None:
    """Count ``request`` now in each ``(scope, ident)`` of ``counters`` (``ident``
    ``None``: the client's address), for the throttles to find later, and say whether each
    cache key in ``peek`` exists — one async round trip. ``None`` when the cache could not
    be reached."""
    address = client_ip(request)
    resolved = [
        (scope, ident if ident is not None else address, rate_for(scope))
        for scope, ident in counters
    ]
    usages, present = await rate_limit_consume_async(resolved, peek=peek)
    counted: dict[str, RateLimitUsage] = request.__dict__.setdefault(_PRECOUNTED, {})
    for (scope, _, _), usage in zip(resolved, usages, strict=True):
        counted[scope] = usage
    return present


class PublicAccess:
    """The ``auth`` of an operation anyone may call: lets every caller in, after counting
    the request in ``scopes`` (per client address) in one async round trip, so the
    operation's throttles never wait on the cache on the event loop. Not a security
    scheme: the OpenAPI document shows the operation as public."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes

    async def __call__(self, request: HttpRequest) -> _Public:
        await precount(request, [(scope, None) for scope in self.scopes])
        return PUBLIC


class _Public:
    """``request.auth`` on a public operation: nobody in particular."""

    user_id = None

    def __bool__(self) -> bool:
        return True


PUBLIC = _Public()


def _counted_or_consume(request: HttpRequest, scope: str, ident: str) -> RateLimitUsage:
    counted: dict[str, RateLimitUsage] = request.__dict__.get(_PRECOUNTED, {})
    usage = counted.pop(scope, None)
    return usage if usage is not None else _consume(scope, ident)


class _NinjaThrottle(NinjaBaseThrottle):
    """Keeps the last refusal's wait per thread: Ninja shares one throttle instance between
    all requests and calls ``wait()`` right after ``allow_request()`` with no await in
    between, so a thread-local value always belongs to the request being refused."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _remember(self, usage: RateLimitUsage) -> bool:
        self._local.retry_after = usage.retry_after
        return usage.allowed

    def wait(self) -> float | None:
        retry_after: int | None = getattr(self._local, "retry_after", None)
        return retry_after


class NinjaRateThrottle(_NinjaThrottle):
    """The default v2 limit: per user when the operation authenticated one (its auth
    result carries ``user_id``), otherwise per client address."""

    def allow_request(self, request: HttpRequest) -> bool:
        user_id = getattr(getattr(request, "auth", None), "user_id", None)
        if user_id:
            return self._remember(_counted_or_consume(request, "user", str(user_id)))
        return self._remember(_counted_or_consume(request, "anon", client_ip(request)))


class NinjaAuthIpThrottle(_NinjaThrottle):
    """The stricter per-address limit for sign-in, sign-up and password-reset operations;
    attach it next to :class:`NinjaRateThrottle` (an operation's ``throttle=`` replaces
    the API's default list)."""

    def allow_request(self, request: HttpRequest) -> bool:
        return self._remember(_counted_or_consume(request, "auth_ip", client_ip(request)))


class DrfRateThrottle(DrfBaseThrottle):
    """The default v1 limit: per signed-in user, otherwise per client address.

    DRF makes a new instance per request, so the wait can live on the instance.
    """

    def __init__(self) -> None:
        self._retry_after: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is not None and user.is_authenticated:
            usage = _consume("user", str(user.pk))
        else:
            usage = _consume("anon", client_ip(request))
        self._retry_after = usage.retry_after
        return usage.allowed

    def wait(self) -> float | None:
        return self._retry_after
