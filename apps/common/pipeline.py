"""The lean ASGI request path of the APIs.

Django's stock middleware are all ``MiddlewareMixin`` classes: under ASGI each of their
``process_request`` / ``process_response`` halves is a hop into a sync thread, and the
handler adds one more hop for ``request_started`` and one for ``response.close()`` — about
18 thread hops per request before the view does anything, which made async views several
times slower than a bare async app. The APIs need none of sessions, CSRF, messages or the
session user (they authenticate bearer tokens).

So the ASGI application (``config/asgi.py``) sends ``/api/``, ``/health/`` and ``/metrics``
to :class:`ApiASGIHandler`, which

- runs only ``settings.API_MIDDLEWARE``, every one natively async;
- runs the pure-CPU hooks of Django's security, CSP, common (host check, slash
  redirects) and X-Frame-Options middleware inline through :class:`InlineHooksMiddleware`,
  so API responses carry exactly the headers the rest of the site does, without a hop;
- sends ``request_started`` / ``request_finished`` inline when no database connection is
  open in the request's context (the usual case: reads and writes close theirs at the end
  of their one hop, see :func:`apps.common.db.in_thread`), and through a hop as Django does
  otherwise.

Everything else (admin, static files) keeps Django's full stack.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from contextlib import closing
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.db import connections
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix
from django.utils.module_loading import import_string

from apps.common.db import pooled_threads
from apps.common.errors import ValidationFailed
from apps.common.input_guard import find_in_request
from apps.common.problems import application_error_body, problem_body, problem_response

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _noop_get_response(request: HttpRequest) -> HttpResponseBase:  # pragma: no cover
    raise AssertionError("inline middleware hooks never call get_response")


class InlineHooksMiddleware:
    """Runs ``process_request`` and ``process_response`` of the CPU-only Django middleware
    in ``settings.API_INLINE_MIDDLEWARE`` in the event loop, in the order the full stack
    runs them (requests top-down, responses bottom-up). Only middleware that do no I/O
    belong there — this is what lets them skip the thread hop."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]):
        self.get_response = get_response
        hooks = [import_string(path)(_noop_get_response) for path in settings.API_INLINE_MIDDLEWARE]
        self._request_hooks = [h.process_request for h in hooks if hasattr(h, "process_request")]
        self._response_hooks = [
            h.process_response for h in reversed(hooks) if hasattr(h, "process_response")
        ]
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase | None = None
        for process_request in self._request_hooks:
            response = process_request(request)
            if response is not None:
                break
        if response is None:
            response = await self.get_response(request)
        for process_response in self._response_hooks:
            response = process_response(request, response)
        return response


def _pooled_path(path: str) -> bool:
    """Whether ``path`` does all its sync work on the pooled threads (no sync view)."""
    return path.startswith(tuple(settings.API_POOLED_THREAD_PREFIXES))


def _database_connection_open() -> bool:
    return any(conn.connection is not None for conn in connections.all(initialized_only=True))


class ApiASGIHandler(ASGIHandler):
    """Django's ASGI handler with the API middleware and no per-request thread hop of its
    own (see the module's docstring)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response_async)  # type: ignore[attr-defined]
        for path in reversed(settings.API_MIDDLEWARE):
            middleware = import_string(path)
            if not getattr(middleware, "async_capable", False):
                raise ImproperlyConfigured(f"API middleware {path} must be natively async")
            handler = convert_exception_to_response(middleware(handler))
        self._middleware_chain = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No ThreadSensitiveContext (a new thread per request): the APIs' sync work runs
        # on the process' thread pool (apps.common.db.in_thread); sync views (v1) still
        # get a thread of their own per request, as Django gives them.
        if _pooled_path(scope["path"]):
            with pooled_threads():
                await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _read_body_within(self, receive: Receive, limit: int) -> Any:
        """Django's ``read_body`` that stops at ``limit`` bytes (``_BodyTooLarge``)."""
        # Closed by handle() (closing()) or here when the body is refused.
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b"
        )
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                body_file.close()
                raise _BodyTooLarge(io.BytesIO())
            body_file.write(chunk)
            if not message.get("more_body", False):
                break
        body_file.seek(0)
        return body_file

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Django's ASGIHandler.handle, with the two request signals sent inline when
        # that is safe (no database connection open in this context: their receivers —
        # close_old_connections, reset_queries, closing caches — then do no I/O), and
        # without the task that watches for a client disconnect meanwhile: an API call
        # whose client left runs to its end (a write is not cut off half-way).
        limit = body_limit(scope["path"])
        declared = _declared_length(scope)
        too_large = declared is not None and declared > limit
        try:
            if too_large:
                # Refused before reading a byte of it.
                body_file = io.BytesIO()
            else:
                body_file = await self._read_body_within(receive, limit)
        except RequestAborted:
            return
        except _BodyTooLarge as refused:
            body_file, too_large = refused.empty_file, True
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                assert error_response is not None
                await self.send_response(error_response, send)
                error_response.close()
                return
            if too_large:
                request.body_limit_exceeded = limit  # type: ignore[attr-defined]
            response = await self.run_get_response(request)
            await self.send_response(response, send)
            # A sync view (v1) ran on this request's own thread, where its connection is
            # still open: request_finished must close it there (through the same hop
            # Django makes), or the pooled connection is never handed back.
            if _database_connection_open() or not _pooled_path(scope["path"]):
                await sync_to_async(response.close)()
            else:
                response.close()


class _BodyTooLarge(Exception):
    def __init__(self, empty_file: Any) -> None:
        self.empty_file = empty_file


def body_limit(path: str) -> int:
    """The largest request body accepted on ``path``, in bytes."""
    if path.startswith(settings.API_WEBHOOK_PATH_PREFIX):
        return int(settings.API_MAX_WEBHOOK_BODY_BYTES)
    return int(settings.API_MAX_BODY_BYTES)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """413 problem+json for a request whose body is over the path's limit
    (``API_MAX_BODY_BYTES``; webhooks ``API_MAX_WEBHOOK_BODY_BYTES``). The handler has
    already refused to read it — by its ``Content-Length``, or, for a chunked body, as
    soon as it passed the limit — so nothing is parsed; this middleware only answers, from
    inside the API middleware, so the answer carries the request id and the headers."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = getattr(request, "body_limit_exceeded", None)
        if limit is None:
            return await self.get_response(request)
        return problem_response(
            problem_body(
                status=413,
                code="body_too_large",
                detail=f"The request body is larger than {limit} bytes.",
                extra={"limit": limit},
            )
        )


class InputGuardMiddleware:
    """422 problem+json naming the field for hostile input (``apps.common.input_guard``):
    control characters in the query string, a header, a path parameter, a JSON or
    form-encoded body; integers beyond 64 bits; JSON nested too deep — so that no view,
    parser or database sees it."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        found = find_in_request(
            query=((name, value) for name, values in request.GET.lists() for value in values),
            headers=getattr(request, "scope", {}).get("headers", ()),
            path=request.path_info,
            path_params=_path_params,
            body=lambda: request.body,
            content_type=request.content_type or "",
            # Webhook bodies are the provider's own signed text: their endpoint checks the
            # signature and stores the event as sent, so only what cannot be stored or
            # parsed is refused here.
            webhook=request.path.startswith(settings.API_WEBHOOK_PATH_PREFIX),
        )
        if found is None:
            return await self.get_response(request)
        error = ValidationFailed(f"{found.field}: {found.message}", field_errors=[found])
        return problem_response(application_error_body(error))


def _path_params(path: str) -> dict[str, Any] | None:
    try:
        return resolve(path).kwargs
    except Resolver404:
        return None


def api_path(path: str) -> bool:
    """Whether ``path`` is served by the lean API pipeline."""
    return path.startswith(tuple(settings.API_PATH_PREFIXES))


def dispatch_by_path(api: ASGIApp, site: ASGIApp) -> ASGIApp:
    """One ASGI application: API paths to ``api``, everything else to ``site``."""
    prefixes = tuple(settings.API_PATH_PREFIXES)

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(prefixes):
            await api(scope, receive, send)
        else:
            await site(scope, receive, send)

    return application
