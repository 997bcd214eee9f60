"""Ninja exception handlers: every error leaves the v2 API as ``application/problem+json``."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from apps.common.apis.ninja_parser import UnsupportedMediaType
from apps.common.apis.plain_errors import method_not_allowed
from apps.common.errors import ApplicationError, FieldError
from apps.common.problems import (
    application_error_body,
    error_headers,
    problem_body,
    problem_response,
    throttled_detail,
    unavailable_response,
)

logger = structlog.get_logger(__name__)

_HTTP_CODES = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def field_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """``("body", "payload", "items", 0, "quantity")`` → ``items.0.quantity``.

    The first element is the source (body, query, path, header); for a body schema the
    second is the view's parameter name, which the client never sees.
    """
    parts = list(loc)
    source = parts.pop(0) if parts else "body"
    if source == "body" and len(parts) > 1:
        parts.pop(0)
    return ".".join(str(part) for part in parts) or source


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        FieldError(
            field=field_path(error.get("loc", ())),
            message=str(error.get("msg", "Invalid value")),
            code=str(error.get("type", "invalid")),
        )
        for error in exc.errors
    ]
    if any(error.code == "json_invalid" for error in errors):
        body = problem_body(status=400, code="malformed_request", detail="Body is not valid JSON.")
        return problem_response(body)
    body = problem_body(
        status=422,
        code="validation_failed",
        title="Invalid input",
        detail="; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
        errors=errors,
    )
    return problem_response(body)


def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return problem_response(application_error_body(exc), error_headers(exc))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, UnsupportedMediaType):
        return problem_response(
            problem_body(status=415, code="unsupported_media_type", detail=str(exc.__cause__))
        )
    headers: dict[str, str] = {}
    if isinstance(exc, Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    body = problem_body(
        status=exc.status_code,
        code=_HTTP_CODES.get(exc.status_code, "error"),
        detail=throttled_detail(exc.wait) if isinstance(exc, Throttled) else str(exc),
    )
    return problem_response(body, headers)


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(problem_body(status=404, code="not_found", detail="Not found."))


def _unhandled(request: HttpRequest, exc: Exception) -> HttpResponse:
    unavailable = unavailable_response(exc, layer="v2")
    if unavailable is not None:
        return unavailable
    logger.exception("api.unhandled_error", layer="v2")
    return problem_response(
        problem_body(status=500, code="server_error", detail="An unexpected error occurred.")
    )


def install_problem_handlers(api: NinjaAPI) -> None:
    """Replace Ninja's default handlers with the shared problem+json mapping."""
    handlers: dict[type[Exception], Any] = {
        Exception: _unhandled,
        Http404: _not_found,
        HttpError: _http_error,
        ValidationError: _validation_error,
        ApplicationError: _application_error,
    }
    for exception_class, handler in handlers.items():
        api.add_exception_handler(exception_class, handler)


def _problem_405(response: HttpResponseBase) -> HttpResponseBase:
    if isinstance(response, HttpResponseNotAllowed):
        allowed = [method.strip() for method in response["Allow"].split(",") if method.strip()]
        return method_not_allowed(allowed)
    return response


def _with_problem_405(view: Callable[..., Any]) -> Callable[..., Any]:
    """Ninja answers a method no operation of the path takes with a plain-text 405; this
    turns it into the same problem document as every other error."""
    if iscoroutinefunction(view):

        async def async_wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _problem_405(await view(request, *args, **kwargs))

        wrapped: Callable[..., Any] = markcoroutinefunction(async_wrapped)
    else:

        def sync_wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return _problem_405(view(request, *args, **kwargs))

        wrapped = sync_wrapped
    functools.update_wrapper(wrapped, view)
    return wrapped


def problem_405_urls(urls: tuple[list[Any], str, str]) -> tuple[list[Any], str, str]:
    """``api.urls`` with every view answering a wrong method as problem+json."""
    patterns, app_name, namespace = urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _with_problem_405(pattern.callback)
    return patterns, app_name, namespace
