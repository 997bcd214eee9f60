"""The error responses of both OpenAPI documents, written by one rule.

Every error leaves either API as ``application/problem+json`` (``apps.common.problems``);
``document_problems`` makes each document say so — every 4xx/5xx response of every
operation is the ``Problem`` schema under that content type — and adds the errors an
operation can answer whatever its view says:

- 400 (body not JSON), 413 (body over the limit), 415 (body not JSON) when it takes a body;
- 401 when it takes a token (a security requirement), 403 when a permission gates it;
- 404 when its path names something;
- 422 when it takes input (parameters or a body);
- 429 when it is throttled;
- 503 always (the database or a provider is unreachable; ``Retry-After``).

v1 runs it as a drf-spectacular postprocessing hook (``drf_postprocess``, in
``SPECTACULAR_SETTINGS``), v2 from ``config.ninja_api`` when Ninja builds its document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.common.problems import PROBLEM_CONTENT_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
METHODS = ("get", "put", "post", "patch", "delete")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An ``application/problem+json`` error (RFC 9457).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}

DESCRIPTIONS = {
    "400": "Malformed request: the body is not valid JSON.",
    "401": "No valid access token (``WWW-Authenticate: Bearer``).",
    "403": "Signed in, but not allowed to do this.",
    "404": "Not found (or not yours).",
    "409": "Conflicts with the current state of the resource.",
    "413": "The body is over the size limit.",
    "415": "The body is not ``application/json``.",
    "422": "Invalid input; ``errors`` names each field.",
    "429": "Too many requests; try again after ``Retry-After`` seconds.",
    "503": "Temporarily unavailable; try again after ``Retry-After`` seconds.",
}


def _takes_body(operation: dict[str, Any]) -> bool:
    return "requestBody" in operation


def _takes_input(operation: dict[str, Any]) -> bool:
    return _takes_body(operation) or bool(operation.get("parameters"))


def _secured(operation: dict[str, Any]) -> bool:
    return any(requirement for requirement in operation.get("security") or [])


def operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def document_problems(
    document: dict[str, Any],
    *,
    unthrottled: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
    forbidding: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> dict[str, Any]:
    """Document problem+json errors on every operation of ``document`` (in place).
    ``unthrottled`` and ``forbidding`` hold ``(path, method)`` pairs (method lower-case):
    operations no rate limit applies to, and those a permission check may refuse (403)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    for path, method, operation in operations(document):
        # Ninja keys responses by int status, drf-spectacular by str: one form here.
        responses = {str(code): value for code, value in operation.get("responses", {}).items()}
        codes = {"503"}
        if _takes_body(operation):
            codes |= {"400", "413", "415"}
        if _takes_input(operation):
            codes.add("422")
        if _secured(operation):
            codes.add("401")
        if (path, method) in forbidding:
            codes.add("403")
        if "{" in path:
            codes.add("404")
        if (path, method) not in unthrottled:
            codes.add("429")
        for code in codes:
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400:
                response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
                if not response.get("description"):
                    response["description"] = DESCRIPTIONS.get(code, "Error.")
        operation["responses"] = dict(sorted(responses.items()))
    return document


def drf_postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: ``document_problems`` with each view's
    throttles and permissions."""
    from rest_framework.permissions import AllowAny, IsAuthenticated

    unthrottled: set[tuple[str, str]] = set()
    forbidding: set[tuple[str, str]] = set()
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view = getattr(callback, "cls", None)
        if view is None:
            continue
        key = (path, method.lower())
        if not getattr(view, "throttle_classes", None):
            unthrottled.add(key)
        permissions = getattr(view, "permission_classes", ())
        if any(permission not in (AllowAny, IsAuthenticated) for permission in permissions):
            forbidding.add(key)
    return document_problems(result, unthrottled=unthrottled, forbidding=forbidding)
