"""Requests no view answers — unknown path, wrong method, malformed id, refused ``Host``
— still get a problem document under /api/, shaped like every other error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}


def _assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-endpoint/",
        "/api/v2/no-such-endpoint/",
        "/api/v2/no-such-endpoint",
        "/api/v1/vendor/products/abc/",
        "/api/v1/orders/abc/",
    ],
)
def test_an_unknown_api_path_is_a_problem_404(client: Client, path: str) -> None:
    _assert_problem(client.get(path), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "allowed"), [("/api/v2/products/", "GET"), ("/api/v2/orders/", "GET, POST")]
)
def test_a_wrong_method_on_v2_is_a_problem_405(client: Client, path: str, allowed: str) -> None:
    response = client.delete(path)

    _assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == allowed


@pytest.mark.django_db
def test_a_wrong_method_on_v1_is_a_problem_405(client: Client) -> None:
    _assert_problem(client.delete("/api/v1/meta/"), 405, "method_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/vendor/products/", "/api/v2/products/"])
def test_a_refused_host_is_a_problem_400(client: Client, path: str) -> None:
    _assert_problem(client.get(path, HTTP_HOST="evil.example"), 400, "malformed_request")


@pytest.mark.django_db
def test_pages_outside_the_api_keep_djangos_answers(client: Client) -> None:
    assert "html" in client.get("/nope/", HTTP_HOST="evil.example")["Content-Type"]
    assert "html" in client.get("/no-such-page/")["Content-Type"]
