"""Django-level 400/404/405/500 handlers: problem+json under /api/, Django's pages elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from apps.common.problems import problem_body, problem_response, unavailable_response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_aware_400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A refused request (a ``Host`` not in ``ALLOWED_HOSTS``, another suspicious one)."""
    if _is_api(request):
        return problem_response(
            problem_body(status=400, code="malformed_request", detail="Bad request.")
        )
    return defaults.bad_request(request, exception)


def method_not_allowed(allowed: Iterable[str]) -> HttpResponse:
    """405 problem+json with the ``Allow`` header (both layers)."""
    methods = sorted(set(allowed))
    return problem_response(
        problem_body(
            status=405,
            code="method_not_allowed",
            detail="Method not allowed; allowed: " + ", ".join(methods) + ".",
        ),
        headers={"Allow": ", ".join(methods)},
    )


def api_aware_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return problem_response(problem_body(status=404, code="not_found", detail="Not found."))
    return defaults.page_not_found(request, exception)


def api_aware_500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        # Django calls this inside its ``except`` block: the error is still at hand (one
        # raised outside a view, e.g. by a middleware, when the database is down).
        error = sys.exc_info()[1]
        unavailable = unavailable_response(error, layer="django") if error else None
        if unavailable is not None:
            return unavailable
        return problem_response(
            problem_body(status=500, code="server_error", detail="An unexpected error occurred.")
        )
    return defaults.server_error(request)
