"""Both API layers answer every failure as application/problem+json."""

import json

import pytest
from django.test import Client

from conftest import JsonLogs

pytestmark = [pytest.mark.urls("apps.common.tests.error_urls")]

BAD_ORDER = {"items": [{"variant_id": 1, "quantity": 0}], "delivery_address": "short"}


def _problem(response):
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://")
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_validation_errors_name_each_field(client: Client, prefix: str) -> None:
    response = client.post(f"{prefix}/orders/", BAD_ORDER, content_type="application/json")

    assert response.status_code == 422
    body = _problem(response)
    assert body["code"] == "validation_failed"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"items.0.quantity", "delivery_address"}


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_missing_field_is_named(client: Client, prefix: str) -> None:
    response = client.post(
        f"{prefix}/orders/", {"delivery_address": "1 Long Street, Lagos"}, "application/json"
    )

    assert response.status_code == 422
    assert [e["field"] for e in _problem(response)["errors"]] == ["items"]


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_malformed_json_is_400(client: Client, prefix: str) -> None:
    response = client.post(f"{prefix}/orders/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert _problem(response)["code"] == "malformed_request"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_domain_error_keeps_its_status_code_and_details(client: Client, prefix: str) -> None:
    response = client.get(f"{prefix}/conflict/")

    assert response.status_code == 409
    body = _problem(response)
    assert body["code"] == "insufficient_stock"
    assert body["detail"] == "Not enough stock"
    assert body["lines"] == [0]


def test_rate_limited_error_sets_retry_after(client: Client) -> None:
    response = client.get("/api/v2/limited/")

    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert _problem(response)["code"] == "rate_limited"


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/v2"])
def test_unknown_error_is_500_without_internals_and_is_logged(
    client: Client, prefix: str, json_logs: JsonLogs
) -> None:
    response = client.get(f"{prefix}/boom/", headers={"X-Request-ID": "trace-me-42"})

    assert response.status_code == 500
    body = _problem(response)
    assert body["code"] == "server_error"
    assert "hunter2" not in response.content.decode()
    errors = [line for line in json_logs() if line["level"] == "error"]
    assert errors, "the failure must be logged"
    assert errors[0]["request_id"] == "trace-me-42"
    assert "hunter2" in errors[0]["exception"], "the log keeps the traceback"
