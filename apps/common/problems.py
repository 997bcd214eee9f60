"""RFC 9457 problem documents, shared by both API layers and the plain Django handlers."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import structlog
from django.http import HttpResponse

from apps.common.errors import (
    ApplicationError,
    DatabaseUnavailable,
    FieldError,
    database_unavailable,
)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://fashionistar.dev/problems/"

logger = structlog.get_logger(__name__)


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: Iterable[FieldError] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a problem document; the request id of the current request is included."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    field_errors = [error.as_dict() for error in errors]
    if field_errors:
        body["errors"] = field_errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)  # details never overwrite the standard members
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        body["request_id"] = request_id
    return body


def application_error_body(error: ApplicationError) -> dict[str, Any]:
    return problem_body(
        status=error.status,
        code=error.code,
        detail=error.message,
        title=error.title,
        errors=error.field_errors,
        extra=error.details or None,
    )


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, default=str),
        status=body["status"],
        content_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
    return response


def error_headers(error: ApplicationError) -> dict[str, str]:
    """``Retry-After`` for rate limits; the ``WWW-Authenticate`` challenge for 401s."""
    headers: dict[str, str] = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return headers


def unavailable_response(error: BaseException, *, layer: str) -> HttpResponse | None:
    """503 ``database_unavailable`` with ``Retry-After`` when ``error`` means the database
    cannot be reached; ``None`` for any other error (which stays a 500)."""
    if not database_unavailable(error):
        return None
    logger.warning(
        "api.database_unavailable", layer=layer, error=f"{type(error).__name__}: {error}"
    )
    unavailable = DatabaseUnavailable()
    return problem_response(application_error_body(unavailable), error_headers(unavailable))


def throttled_detail(wait: float | None) -> str:
    """The one wording of a rate-limit refusal on every layer."""
    if wait is None:
        return "Too many requests; try again later."
    return f"Too many requests; try again in {max(math.ceil(wait), 1)} seconds."
