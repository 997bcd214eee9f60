"""Request id: taken from ``X-Request-ID`` (when well-formed) or generated, bound to every
log line of the request, echoed in the response, and carried into enqueued tasks.

The middleware is natively async and does no blocking work, so it adds no thread hop to
async views.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from apps.common import metrics, tracing

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
logger = structlog.get_logger("fashionistar.request")


def request_id_from(request: HttpRequest) -> str:
    """The caller's id when it is safe to log and echo, else a fresh UUID."""
    incoming = request.headers.get(HEADER, "")
    return incoming if _VALID.match(incoming) else uuid.uuid4().hex


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return str(value) if value else None


def bind_user_id(user_id: Any) -> None:
    """Called by authentication once it knows who is calling."""
    structlog.contextvars.bind_contextvars(user_id=user_id)


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        started = self._start(request)
        response = self.get_response(request)
        return self._finish(request, response, started)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        started = self._start(request)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        return self._finish(request, response, started)

    @staticmethod
    def _start(request: HttpRequest) -> float:
        structlog.contextvars.clear_contextvars()
        request_id = request_id_from(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return time.perf_counter()

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponseBase, started: float) -> Any:
        response[HEADER] = request.request_id  # type: ignore[attr-defined]
        user = getattr(request, "_cached_user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            bind_user_id(user.pk)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        metrics.REQUESTS.labels(request.method, route, str(response.status_code)).observe(elapsed)
        if tracing.tracer is not None:
            tracing.server_span_route(
                str(request.method),
                match.route if match else None,
                request.request_id,  # type: ignore[attr-defined]
            )
        logger.info(
            "request.finished",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 2),
        )
        structlog.contextvars.clear_contextvars()
        return response
