"""Request ids: echoed, generated when absent or unsafe, on every log line of the request."""

import re

import pytest
from django.test import Client

from conftest import JsonLogs

pytestmark = pytest.mark.django_db


def test_caller_request_id_is_echoed_and_logged_as_json(
    client: Client, json_logs: JsonLogs
) -> None:
    response = client.get("/api/v2/meta/", headers={"X-Request-ID": "checkout-7f3a"})

    assert response["X-Request-ID"] == "checkout-7f3a"
    finished = [line for line in json_logs() if line["message"] == "request.finished"]
    assert len(finished) == 1
    line = finished[0]
    assert line["request_id"] == "checkout-7f3a"
    assert line["status"] == 200
    assert line["path"] == "/api/v2/meta/"
    assert {"timestamp", "level", "logger"} <= line.keys()


def test_missing_request_id_is_generated(client: Client) -> None:
    first = client.get("/api/v1/meta/")["X-Request-ID"]
    second = client.get("/api/v1/meta/")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("unsafe", ["a" * 200, "evil\\nINFO forged line", "<script>", "x y"])
def test_unsafe_request_id_is_replaced(client: Client, unsafe: str) -> None:
    echoed = client.get("/api/v1/meta/", headers={"X-Request-ID": unsafe})["X-Request-ID"]

    assert echoed != unsafe
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_request_id_does_not_leak_into_the_next_request(
    client: Client, json_logs: JsonLogs
) -> None:
    client.get("/api/v2/meta/", headers={"X-Request-ID": "first-request"})
    client.get("/api/v2/meta/")

    ids = [line["request_id"] for line in json_logs() if line["message"] == "request.finished"]
    assert ids[0] == "first-request"
    assert ids[1] != "first-request"
