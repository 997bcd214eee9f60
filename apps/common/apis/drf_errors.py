"""DRF ``EXCEPTION_HANDLER``: every error leaves the v1 API as ``application/problem+json``."""

from __future__ import annotations

import math
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from rest_framework import exceptions as drf

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

_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
}


def flatten_errors(detail: Any, prefix: str = "") -> list[FieldError]:
    """Turn DRF's nested ``{"items": [{"quantity": ["…"]}]}`` into dotted field paths."""
    if isinstance(detail, dict):
        return [
            error
            for key, value in detail.items()
            for error in flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(detail, list):
        if all(isinstance(item, (str, drf.ErrorDetail)) for item in detail):
            return [_field_error(prefix, item) for item in detail]
        return [
            error
            for index, item in enumerate(detail)
            for error in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index))
        ]
    return [_field_error(prefix, detail)]


def _field_error(field: str, message: Any) -> FieldError:
    field = field.removesuffix("non_field_errors").rstrip(".") or "body"
    return FieldError(field=field, message=str(message), code=getattr(message, "code", "invalid"))


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    if isinstance(exc, ApplicationError):
        return problem_response(application_error_body(exc), error_headers(exc))
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.ValidationError):
        errors = flatten_errors(exc.detail)
        body = problem_body(
            status=422,
            code="validation_failed",
            title="Invalid input",
            detail="; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            errors=errors,
        )
        return problem_response(body)
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(math.ceil(wait))
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        body = problem_body(
            status=exc.status_code,
            code=_DRF_CODES.get(type(exc), exc.default_code),
            detail=throttled_detail(wait) if isinstance(exc, drf.Throttled) else str(exc.detail),
        )
        return problem_response(body, headers)
    unavailable = unavailable_response(exc, layer="v1")
    if unavailable is not None:
        return unavailable
    logger.exception("api.unhandled_error", layer="v1")
    return problem_response(
        problem_body(status=500, code="server_error", detail="An unexpected error occurred.")
    )
