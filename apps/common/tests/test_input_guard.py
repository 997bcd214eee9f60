"""The input guard's checks, one input at a time (``test_hostile_input.py`` throws them at
every endpoint through the served app)."""

from __future__ import annotations

import json

import pytest

from apps.common.input_guard import (
    MAX_JSON_DEPTH,
    find_in_body,
    find_in_headers,
    find_in_json,
    find_in_path_params,
    find_in_query,
    find_in_request,
    path_is_suspect,
)

INT64_MAX = 2**63 - 1


def _field(found: object) -> str | None:
    return getattr(found, "field", None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ([("q", "silk")], None),
        ([("q", "si\x00lk")], "q"),
        ([("q", "tab\tand\nnewline")], None),
        ([("x\x01", "1")], "query"),
        ([("limit", str(INT64_MAX))], None),
        ([("limit", str(INT64_MAX + 1))], "limit"),
        ([("offset", str(-(2**63) - 1))], "offset"),
        ([("sku", "1" * 30 + "A")], None),  # digits and more: text, not an integer
    ],
)
def test_query(params: list[tuple[str, str]], field: str | None) -> None:
    assert _field(find_in_query(params)) == field


def test_a_header_with_a_control_character_is_named() -> None:
    headers = [(b"accept", b"application/json"), (b"idempotency-key", b"a\x01b")]

    assert _field(find_in_headers(headers)) == "Idempotency-Key"
    assert find_in_headers([(b"user-agent", b"curl/8.0\t(x)")]) is None


@pytest.mark.parametrize(
    ("path", "suspect"),
    [
        ("/api/v2/products/12/", False),
        ("/api/v2/products/\x00/", True),
        ("/api/v2/products/" + "9" * 19 + "/", True),
        ("/api/v2/products/" + "9" * 18 + "/", False),
    ],
)
def test_only_suspect_paths_are_resolved(path: str, suspect: bool) -> None:
    assert path_is_suspect(path) is suspect


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"product_id": 12}, None),
        ({"product_id": 2**63}, "product_id"),  # a route's int converter
        ({"product_id": str(2**63)}, "product_id"),  # Ninja passes the text
        ({"provider": "pay\x00stack"}, "provider"),
        ({"provider": "paystack"}, None),
    ],
)
def test_path_parameters(params: dict[str, object], field: str | None) -> None:
    assert _field(find_in_path_params(params)) == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Shirt"}, None),
        ({"name": "Sh\x07irt"}, "name"),
        ({"items": [{"variant_id": 2**64}]}, "items.0.variant_id"),
        ({"name": "a\ud800b"}, "name"),  # a lone surrogate: the database cannot store it
        ({"name": "emoji \U0001f600"}, None),
    ],
)
def test_json(body: object, field: str | None) -> None:
    assert _field(find_in_json(json.dumps(body).encode())) == field


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_a_number_that_is_not_finite_is_refused(number: bytes) -> None:
    assert _field(find_in_json(b'{"price": ' + number + b"}")) == "price"


def test_nesting_beyond_the_limit_or_the_parser_is_refused() -> None:
    within = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    beyond = b"[" * (MAX_JSON_DEPTH + 2) + b"]" * (MAX_JSON_DEPTH + 2)
    unparseable = b"[" * 100_000 + b"]" * 100_000

    assert find_in_json(within) is None
    assert _field(find_in_json(beyond)) == "body"
    assert _field(find_in_json(unparseable)) == "body"


def test_a_webhook_body_is_refused_only_what_cannot_be_stored_or_parsed() -> None:
    # Signed provider text is stored as sent: control characters and big numbers are
    # fine there; NUL, lone surrogates, non-finite numbers and deep nesting are not.
    assert (
        find_in_json(b'{"note": "a\\u0007b", "id": 99999999999999999999999}', webhook=True) is None
    )
    assert _field(find_in_json(b'{"data": {"ref": "a\\u0000"}}', webhook=True)) == "data.ref"
    assert _field(find_in_json(b'{"ref": "\\ud800"}', webhook=True)) == "ref"
    assert _field(find_in_json(b'{"amount": NaN}', webhook=True)) == "amount"
    assert _field(find_in_json(b"[" * 5000 + b"]" * 5000, webhook=True)) == "body"


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b'{"x": "\\u0000"}', "text/plain", "x"),  # JSON whatever the declared type
        (b'{"x": "\\u0000"}', "application/x-www-form-urlencoded", "x"),
        (b"email=a%00b&password=x", "application/x-www-form-urlencoded", "email"),
        (b"limit=" + b"9" * 25, "application/x-www-form-urlencoded", "limit"),
        (b"email=a%00b", "text/plain", None),  # neither JSON nor a form: the API refuses it
        (b"--b\r\n\x00binary", "multipart/form-data; boundary=b", None),
        (b"\xff\xfe", "application/x-www-form-urlencoded", None),
        (b"", "application/json", None),
    ],
)
def test_body(body: bytes, content_type: str, field: str | None) -> None:
    assert _field(find_in_body(body, content_type=content_type)) == field


def test_a_request_is_looked_at_in_order_and_resolves_only_suspect_paths() -> None:
    resolved: list[str] = []

    def params(path: str) -> dict[str, object]:
        resolved.append(path)
        return {"product_id": path.split("/")[-2]}

    def request(path: str, query: list[tuple[str, str]], body: bytes) -> object:
        return find_in_request(
            query=query,
            headers=[],
            path=path,
            path_params=params,
            body=lambda: body,
            content_type="application/json",
            webhook=False,
        )

    assert _field(request("/api/v2/products/1/", [], b'{"a": "\\u0000"}')) == "a"
    assert resolved == []
    found = request("/api/v2/products/" + "9" * 25 + "/", [("q", "\x00")], b"")
    assert _field(found) == "q"  # the query comes first
    assert _field(request("/api/v2/products/" + "9" * 25 + "/", [], b"")) == "product_id"
