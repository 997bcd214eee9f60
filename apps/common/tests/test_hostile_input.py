"""Hostile input never reaches a 5xx, on any endpoint of either API layer.

The endpoints come from the two OpenAPI documents (Ninja's for v2, drf-spectacular's for
v1), checked against the URL resolver, so a new endpoint is fuzzed without being listed
here. Each one is sent, anonymously and as each role it serves, one hostile input at a
time with every other input valid: NUL, other control characters and lone surrogates,
oversize strings, wrong types and out-of-range numbers in each path, query, header and
body field; deep, malformed, non-JSON, form-encoded and multipart bodies; a body over the
limit; a forged or oversize bearer token. Provider webhooks get the same bodies signed
with the test secrets. Every answer must be a 4xx ``application/problem+json`` — a 422
naming the field when one field is at fault — and nothing may be written.

The requests go through the served ASGI application (``config.asgi``), input guard
included, as granian would send them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from apps.addresses.tests.factories import make_address
from apps.authentication.services import ClientInfo, session_start
from apps.catalog.models import Colour
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.common.input_guard import MAX_JSON_DEPTH
from apps.common.problems import PROBLEM_CONTENT_TYPE
from apps.fit.tests.factories import make_size_chart
from apps.orders.tests.factories import ADDRESS, place_order
from apps.payments.models import Payment
from apps.shipping.models import ShippingMethod
from apps.vendors.tests.factories import StaffFactory, StoreFactory, UserFactory, VendorFactory
from config.asgi import application
from config.ninja_api import api as ninja_api

PASSWORD = "a-Strong-pass-9"

# Routes that are not operations of either API: the documents themselves.
NOT_OPERATIONS = {
    "api/v2/",
    "api/v2/openapi.json",
    "api/v2/docs/",
    "api/v1/schema/",
    "api/v1/docs/",
}
# Integer inputs whose documented contract is "above the cap gives the cap" (page sizes):
# they need a lower bound only; the input guard bounds every integer at 64 bits.
CAPPED = {"limit"}


# --- the endpoints --------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    layer: str
    method: str
    path: str  # OpenAPI template, e.g. /api/v2/orders/{order_id}/
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # the request body's schema
    doc: dict[str, Any] = field(repr=False, hash=False, compare=False)
    roles: tuple[str | None, ...] = (None,)

    @property
    def webhook(self) -> bool:
        return self.path.startswith(settings.API_WEBHOOK_PATH_PREFIX)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@cache
def _v2_document() -> dict[str, Any]:
    return ninja_api.get_openapi_schema()


@cache
def _v1_document() -> dict[str, Any]:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


_V2_ROLES: dict[str | None, tuple[str | None, ...]] = {
    None: (None,),
    "OptionalBearerAuth": (None,),
    "BearerAuth": (None, "customer"),
}
_V1_ROLES: dict[str, tuple[str | None, ...]] = {
    "AllowAny": (None,),
    "IsAuthenticated": (None, "customer"),
    "IsVendor": (None, "vendor"),
    "IsVendorOrStaff": (None, "vendor", "staff"),
    "IsMarketplaceStaff": (None, "staff"),
}


def _v1_roles(path: str, method: str) -> tuple[str | None, ...]:
    view = resolve(re.sub(r"\{[^}]+\}", "1", path)).func.cls  # type: ignore[attr-defined]
    names = [permission.__name__ for permission in view.permission_classes]
    if len(names) != 1 or names[0] not in _V1_ROLES:
        raise AssertionError(f"{method} {path}: say who may call {names} in _V1_ROLES")
    return _V1_ROLES[names[0]]


@cache
def endpoints() -> tuple[Endpoint, ...]:
    found = []
    for layer, document in (("v2", _v2_document()), ("v1", _v1_document())):
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody", {}).get("content", {})
                if layer == "v2":
                    schemes = [next(iter(s)) for s in operation.get("security", [])] or [None]
                    assert len(schemes) == 1 and schemes[0] in _V2_ROLES, (method, path)
                    roles = _V2_ROLES[schemes[0]]
                else:
                    roles = _v1_roles(path, method)
                found.append(
                    Endpoint(
                        layer=layer,
                        method=method.upper(),
                        path=path,
                        parameters=tuple(operation.get("parameters", ())),
                        body=body["application/json"]["schema"] if body else None,
                        doc=document,
                        roles=roles,
                    )
                )
    return tuple(found)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _as_template(route: str) -> str:
    parts = []
    for part in route.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].split(":")[-1] + "}"
        parts.append(part)
    return "/" + "/".join(parts)


# --- schema reading -------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = {**{k: v for k, v in node.items() if k != "allOf"}, **node["allOf"][0]}
        elif "anyOf" in node or "oneOf" in node:
            options = [
                _resolve(doc, option)
                for option in node.get("anyOf", node.get("oneOf", []))
                if option.get("type") != "null"
            ]
            types = {option.get("type") for option in options}
            if types == {"number", "string"}:  # Ninja's Decimal
                merged = {k: v for option in options for k, v in option.items()}
                return {**merged, "type": "string", "format": "decimal"}
            node = {**{k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}, **options[0]}
        else:
            return node


def _kind(node: dict[str, Any]) -> str:
    if "enum" in node:
        return "enum"
    kind = node.get("type", "object")
    if kind == "number":
        return "decimal"
    if kind == "string" and node.get("format") in ("decimal", "date", "date-time", "uuid", "uri"):
        return str(node["format"])
    return str(kind)


def _fields(
    doc: dict[str, Any], node: dict[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every field of a body schema below the root: (path, resolved schema)."""
    node = _resolve(doc, node)
    if path:
        yield path, node
    kind = _kind(node)
    if kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from _fields(doc, child, (*path, name))
    elif kind == "array":
        yield from _fields(doc, node["items"], (*path, 0))


def _unbounded(kind: str, node: dict[str, Any], name: str, where: str) -> str | None:
    if where == "path" and kind == "integer":
        return None  # ids: the route or the input guard keeps them within 64 bits
    if kind == "string" and "maxLength" not in node:
        return "a string without maxLength"
    if kind == "integer" and "minimum" not in node and "exclusiveMinimum" not in node:
        return "an integer without a minimum"
    if kind == "integer" and "maximum" not in node and name not in CAPPED:
        return "an integer without a maximum"
    if kind == "array" and "maxItems" not in node:
        return "an array without maxItems"
    return None


# --- the data the valid parts of each request point at --------------------------------------


@dataclass
class World:
    tokens: dict[str, str]
    samples: dict[str, Any]


@pytest.fixture
def world(settings: Any) -> World:
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "1000000/hour")
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    customer, staff = UserFactory.create(), StaffFactory.create()
    store = StoreFactory.create(owner=VendorFactory.create())
    category = CategoryFactory.create()
    product = make_product(store=store, category=category, variants=[{"stock": 50}])
    variant = product.variants.get()
    order = place_order(customer=customer, items=[(variant, 1)])
    payment = Payment.objects.create(
        order=order,
        provider="paystack",
        reference="FS-hostile-1",
        amount=order.total_amount,
        currency=order.currency,
    )
    tokens = {
        role: session_start(user=user, client=ClientInfo()).access
        for role, user in (("customer", customer), ("vendor", store.owner), ("staff", staff))
    }
    samples = {
        # Path parameters and ids: rows the caller may act on.
        "product_id": product.pk,
        "order_id": order.pk,
        "payment_id": payment.pk,
        "store_id": store.pk,
        "line_id": order.lines.get().pk,
        "shipment_id": order.shipments.get().pk,
        "method_id": ShippingMethod.objects.create(
            store=store,
            name="Courier",
            price=1000,
            currency=order.currency,
            min_days=1,
            max_days=2,
        ).pk,
        "variant_id": variant.pk,
        "category_id": category.pk,
        "address_id": make_address(customer=customer).pk,
        "size_chart_id": make_size_chart(store=store, category=category).pk,
        "provider": "paystack",
        # Body fields whose valid value is not implied by their schema.
        "email": "new.person@example.com",
        "password": PASSWORD,
        "current_password": PASSWORD,
        "new_password": "another-Strong-pass-7",
        "code": "123456",
        "refresh": "r" * 43,
        "delivery_address": ADDRESS,
        "sku": "SKU-HOSTILE-NEW",
        "colour": "Black",
    }
    return World(tokens=tokens, samples=samples)


def _valid(name: str, node: dict[str, Any], samples: dict[str, Any]) -> Any:
    if name in samples:
        return samples[name]
    kind = _kind(node)
    return {
        "enum": lambda: node["enum"][0],
        "string": lambda: "x" * max(node.get("minLength", 1), 1),
        "decimal": lambda: "10.00",
        "date": lambda: "2025-01-31",
        "date-time": lambda: "2025-01-31T12:00:00Z",
        "uuid": lambda: str(uuid.uuid4()),
        "uri": lambda: "https://example.com/photo.jpg",
        "integer": lambda: max(int(node.get("minimum", 1)), 1),
        "boolean": lambda: True,
    }[kind]()


def _minimal(
    doc: dict[str, Any],
    node: dict[str, Any],
    samples: dict[str, Any],
    along: tuple[str | int, ...] = (),
    name: str = "",
) -> Any:
    """The smallest valid value of ``node`` that still holds the field at ``along``."""
    node = _resolve(doc, node)
    kind = _kind(node)
    if kind == "object":
        properties = node.get("properties", {})
        names = list(node.get("required", []))
        if along and along[0] not in names:
            names.append(str(along[0]))
        return {
            key: _minimal(
                doc, properties[key], samples, along[1:] if along and along[0] == key else (), key
            )
            for key in names
        }
    if kind == "array":
        count = max(node.get("minItems", 0), 1)
        return [_minimal(doc, node["items"], samples, along[1:], name) for _ in range(count)]
    return _valid(name, node, samples)


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return document


# --- the hostile inputs ---------------------------------------------------------------------


class Raw(str):
    """JSON text sent as is (``NaN``, ``1e400``), which ``json.dumps`` would not write."""


def _dumps(document: Any) -> bytes:
    raws: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(str(value))
            return f"@@raw{len(raws) - 1}@@"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(document))
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', raw)
    return text.encode()


@dataclass(frozen=True)
class Case:
    label: str
    named: str | None = None  # the field a 422 must name
    path: dict[str, str] = field(default_factory=dict)  # percent-encoded path values
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = "application/json"
    sign: bool = True  # webhooks: sign the body with the provider's secret
    # Input the framework makes harmless (invalid UTF-8 in a query is decoded as U+FFFD):
    # it may succeed, but must not fail or write.
    may_succeed: bool = False


def _body_values(kind: str, node: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) of each hostile value for a body field of this kind."""
    common: list[tuple[str, Any]] = [("wrong type (object)", {"x": 1})]
    if kind in ("string", "enum", "uri", "date", "date-time", "uuid", "decimal"):
        oversize = int(node.get("maxLength", 100_000)) + 1
        common += [
            ("NUL", "a\x00b"),
            ("escape character", "a\x1bb"),
            ("lone surrogate", "a\ud800b"),
            (f"{oversize} characters", "x" * oversize),
        ]
    if kind == "enum":
        common.append(("not a choice", "no-such-choice"))
    if kind == "integer":
        common += [
            ("2**70", 2**70),
            ("-(2**70)", -(2**70)),
            ("2**63", 2**63),
            ("not a number", "abc"),
            ("a fraction", 1.5),
            ("1e400", Raw("1e400")),
            ("NaN", Raw("NaN")),
        ]
        if "maximum" in node:
            common.append(("maximum + 1", int(node["maximum"]) + 1))
        if "minimum" in node:
            common.append(("minimum - 1", int(node["minimum"]) - 1))
    if kind == "decimal":
        common += [
            ("1e400", "1e400"),
            ("NaN", "NaN"),
            ("Infinity", Raw("Infinity")),
            ("40 digits", "9" * 40),
            ("negative", "-1"),
        ]
    if kind == "boolean":
        common.append(("not a boolean", "maybe"))
    if kind in ("date", "date-time"):
        common += [("year 99999", "99999-01-01"), ("30 February", "2024-02-30")]
    if kind == "uri":
        common.append(("a script", "javascript:alert(1)"))
    if kind == "array":
        common.append(("not a list", "x"))
    return common


def _query_values(kind: str, node: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, raw query value) of each hostile value for a query parameter."""
    values = [("NUL", "%00"), ("escape character", "a%1Bb")]
    if kind in ("string", "enum"):
        values.append(("oversize", "x" * (int(node.get("maxLength", 10_000)) + 1)))
    if kind == "enum":
        values.append(("not a choice", "no-such-choice"))
    if kind == "integer":
        values += [
            ("25 digits", "9" * 25),
            ("-25 digits", "-" + "9" * 25),
            ("2**63", str(2**63)),
            ("not a number", "abc"),
            ("a fraction", "1.5"),
        ]
        if "maximum" in node:
            values.append(("maximum + 1", str(int(node["maximum"]) + 1)))
        if "minimum" in node:
            values.append(("minimum - 1", str(int(node["minimum"]) - 1)))
    if kind == "decimal":
        values += [("1e400", "1e400"), ("NaN", "NaN"), ("inf", "inf"), ("40 digits", "9" * 40)]
        if "minimum" in node:
            values.append(("negative", "-1"))
    if kind == "boolean":
        values.append(("not a boolean", "maybe"))
    if kind in ("date", "date-time"):
        values += [("year 99999", "99999-01-01"), ("30 February", "2024-02-30")]
    return values


def _path_values(kind: str) -> list[tuple[str, str]]:
    values = [("NUL", "%00"), ("escape character", "%1B"), ("NUL after digits", "1%00")]
    if kind == "integer":
        values += [
            ("not a number", "abc"),
            ("25 digits", "9" * 25),
            ("2**63", str(2**63)),
            ("zero", "0"),
            ("negative", "-1"),
            ("a fraction", "1.5"),
            ("exponent", "1e3"),
        ]
    else:
        values += [("300 characters", "x" * 300), ("unknown", "no-such-thing")]
    return values


NESTED = ("[" * 5000 + "]" * 5000).encode()
DEEP_OBJECT = ('{"a":' * (MAX_JSON_DEPTH + 2) + "1" + "}" * (MAX_JSON_DEPTH + 2)).encode()
MULTIPART_BOUNDARY = "hostileboundary"


def _multipart(name: str, value: bytes) -> bytes:
    return (
        f'--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + f"\r\n--{MULTIPART_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a\x00.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n".encode()
        + b"\x00\x01 binary"
        + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()
    )


def _guard_body_cases() -> list[Case]:
    """Bodies the guard refuses on any endpoint, with or without a body of its own."""
    return [
        Case("body: 5000 levels of nesting", "body", body=NESTED),
        Case(f"body: {MAX_JSON_DEPTH + 2} levels of objects", "body", body=DEEP_OBJECT),
        Case("body: NUL in a key", "body", body=b'{"a\\u0000": 1}'),
        Case("body: NUL as text/plain", "x", body=b'{"x": "\\u0000"}', content_type="text/plain"),
        Case(
            "body: form-encoded NUL",
            "email",
            body=b"email=a%00b&password=x",
            content_type="application/x-www-form-urlencoded",
        ),
        Case(
            "body: over the limit",
            body=b"x" * (settings.API_MAX_BODY_BYTES + 1),
        ),
    ]


def _loose_body_cases(endpoint: Endpoint, samples: dict[str, Any]) -> list[Case]:
    """Malformed and mistyped bodies for an endpoint that reads one."""
    assert endpoint.body is not None
    minimal = _minimal(endpoint.doc, endpoint.body, samples)
    valid = _dumps(minimal)
    form = "&".join(
        f"{quote(k)}={quote(str(v))}" for k, v in minimal.items() if not isinstance(v, (dict, list))
    )
    cases = [
        Case("body: a list", body=b"[]"),
        Case("body: null", body=b"null"),
        Case("body: a string", body=b'"x"'),
        Case("body: a number", body=b"1"),
        Case("body: cut short", body=valid[:-1]),
        Case("body: invalid UTF-8", body=b'{"x": "\xff\xfe"}'),
    ]
    if minimal:  # with no required field, an empty body is a valid no-op
        cases += [
            Case("body: empty", body=b""),
            Case(
                "body: a valid body form-encoded",
                body=form.encode(),
                content_type="application/x-www-form-urlencoded",
            ),
        ]
    return [
        *cases,
        Case(
            "body: form-encoded, oversize value",
            body=b"name=" + b"x" * 200_000,
            content_type="application/x-www-form-urlencoded",
        ),
        Case(
            "body: multipart with NUL",
            body=_multipart("name", b"a\x00b"),
            content_type=f"multipart/form-data; boundary={MULTIPART_BOUNDARY}",
        ),
        Case(
            "body: multipart without a boundary",
            body=b"--x\r\n\r\n",
            content_type="multipart/form-data",
        ),
        *_guard_body_cases(),
    ]


def _field_cases(endpoint: Endpoint, samples: dict[str, Any]) -> list[Case]:
    assert endpoint.body is not None
    cases = []
    for path, node in _fields(endpoint.doc, endpoint.body):
        name = ".".join(str(step) for step in path)
        kind = _kind(node)
        values = _body_values(kind, node)
        if kind == "array":
            item = _minimal(endpoint.doc, node["items"], samples)
            values.append(
                (
                    f"{node.get('maxItems', 10_000) + 1} items",
                    [item] * (node.get("maxItems", 10_000) + 1),
                )
            )
        for label, value in values:
            document = _set(_minimal(endpoint.doc, endpoint.body, samples, path), path, value)
            cases.append(Case(f"body {name}: {label}", name, body=_dumps(document)))
    return cases


def _webhook_cases(provider: str) -> list[Case]:
    """Bodies signed with ``provider``'s test secret (and a few unsigned): what cannot be
    stored or parsed is refused before the signature is checked, the rest after it."""
    event = {
        "event": "charge.success",
        "data": {"id": 42, "reference": "FS-hostile-1", "amount": 100, "status": "success"},
    }
    at = {"provider": provider}

    def signed(label: str, document: Any, named: str | None = None) -> Case:
        body = document if isinstance(document, bytes) else _dumps(document)
        return Case(f"{provider}: signed body: {label}", named, path=at, body=body)

    cases = [
        signed(
            "NUL",
            _set(json.loads(json.dumps(event)), ("data", "reference"), "a\x00b"),
            "data.reference",
        ),
        signed(
            "lone surrogate",
            _set(json.loads(json.dumps(event)), ("data", "status"), "\ud800"),
            "data.status",
        ),
        signed(
            "NaN",
            _set(json.loads(json.dumps(event)), ("data", "amount"), Raw("NaN")),
            "data.amount",
        ),
        signed("5000 levels of nesting", NESTED, "body"),
        signed("a list", b"[]"),
        signed("cut short", b'{"event": '),
        signed("invalid UTF-8", b'{"event": "\xff"}'),
        Case(
            f"{provider}: unsigned body: NUL",
            "event",
            path=at,
            body=b'{"event": "\\u0000"}',
            sign=False,
        ),
        Case(f"{provider}: unsigned body: a valid event", path=at, body=_dumps(event), sign=False),
        Case(
            f"{provider}: body over the webhook limit",
            path=at,
            body=b"x" * (settings.API_MAX_WEBHOOK_BODY_BYTES + 1),
        ),
    ]
    if provider == "paystack":  # its event id is built from the payload
        id_300 = _set(json.loads(json.dumps(event)), ("data", "id"), "x" * 300)
        cases.append(signed("event id of 300 characters", id_300, "event_id"))
    return cases


def cases_for(endpoint: Endpoint, role: str | None, samples: dict[str, Any]) -> list[Case]:
    cases: list[Case] = []
    for parameter in endpoint.parameters:
        name, where = parameter["name"], parameter["in"]
        node = _resolve(endpoint.doc, parameter.get("schema", {}))
        kind = _kind(node)
        if where == "path":
            cases += [
                Case(f"path {name}: {label}", path={name: value})
                for label, value in _path_values(kind)
            ]
        elif where == "query":
            cases += [
                Case(f"query {name}: {label}", name, query=f"{quote(name)}={value}")
                for label, value in _query_values(kind, node)
            ]
            cases.append(
                Case(f"query {name}: invalid UTF-8", name, query=f"{name}=%FF%FE", may_succeed=True)
            )
        elif where == "header":
            oversize = "x" * (int(node.get("maxLength", 10_000)) + 1)
            cases += [
                Case(f"header {name}: control character", name, headers={name: "a\x01b"}),
                Case(f"header {name}: oversize", name, headers={name: oversize}),
            ]
    cases += [
        Case("query: NUL in an undeclared parameter", "zz", query="zz=%00"),
        Case("query: NUL in a parameter name", "query", query="z%00z=1"),
        Case("query: 25 digits in an undeclared parameter", "zz", query="zz=" + "9" * 25),
        Case("header: control character", "X-Hostile", headers={"X-Hostile": "a\x01b"}),
    ]
    if role is not None:
        cases += [
            Case("bearer: oversize", headers={"Authorization": "Bearer " + "x" * 10_000}),
            Case(
                "bearer: control character",
                "Authorization",
                headers={"Authorization": "Bearer \x01"},
            ),
            Case("bearer: forged", headers={"Authorization": "Bearer a.b.c"}),
            Case("bearer: another scheme", headers={"Authorization": "Basic YTpi"}),
        ]
    if endpoint.webhook:
        for provider in settings.PAYMENT_PROVIDERS:
            cases += _webhook_cases(provider)
    elif endpoint.body is not None:
        # Anonymous on a protected endpoint: refused before the body is validated, so the
        # field-by-field cases would only repeat the 401.
        if role is not None or endpoint.roles == (None,):
            cases += _field_cases(endpoint, samples)
        cases += _loose_body_cases(endpoint, samples)
    else:
        cases += _guard_body_cases()
    return cases


# --- sending ----------------------------------------------------------------------------------


def _sign(provider: str, body: bytes) -> dict[str, str]:
    config = settings.PAYMENT_PROVIDERS[provider]
    if provider == "paystack":
        digest = hmac.new(config["SECRET_KEY"].encode(), body, hashlib.sha512).hexdigest()
        return {"x-paystack-signature": digest}
    if provider == "stripe":
        stamp = int(time.time())
        signed = f"{stamp}.".encode() + body
        digest = hmac.new(config["WEBHOOK_SECRET"].encode(), signed, hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={stamp},v1={digest}"}
    key = config["WEBHOOK_SIGNATURE_KEY"].encode()
    raw = hmac.new(key, config["WEBHOOK_URL"].encode() + body, hashlib.sha256).digest()
    return {"x-square-hmacsha256-signature": base64.b64encode(raw).decode()}


class Sender:
    """Requests through the served ASGI application, as granian would send them, on one
    event loop and one client."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
        self._client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    def send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> httpx.Response:
        # Like a server process, the event loop holds no database connection of its own.
        connections.close_all()
        return self._runner.run(self._client.request(method, url, headers=headers, content=body))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


@pytest.fixture(scope="module")
def sender() -> Iterator[Sender]:
    sending = Sender()
    yield sending
    sending.close()


@cache
def _snapshot_sql() -> str:
    parts = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608 - our own table names
        for column in ("updated_at", "last_login", "revoked_at"):
            if any(f.column == column for f in model._meta.concrete_fields):
                parts.append(f"(SELECT MAX({column}) FROM {table})")  # noqa: S608
    return "SELECT " + ", ".join(parts)


def _snapshot() -> tuple[Any, ...]:
    """Row counts and last-change stamps of every table: what any write would move."""
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql())
        return tuple(cursor.fetchone())


def _judge(case: Case, response: httpx.Response) -> str | None:
    if case.may_succeed and response.status_code < 400:
        return None
    if not 400 <= response.status_code < 500:
        return f"answered {response.status_code}: {response.text[:300]}"
    if response.headers.get("Content-Type") != PROBLEM_CONTENT_TYPE:
        return f"answered {response.status_code} as {response.headers.get('Content-Type')}"
    if response.status_code == 422 and case.named is not None:
        named = [error["field"] for error in response.json().get("errors", [])]
        # A field, or (for a mistyped object) the fields inside it.
        if not any(n == case.named or n.startswith(f"{case.named}.") for n in named):
            return f"422 naming {named}, not {case.named!r}"
    return None


def run_cases(
    endpoint: Endpoint, role: str | None, world: World, sender: Sender
) -> tuple[int, list[str]]:
    samples = world.samples
    failures = []
    cases = cases_for(endpoint, role, samples)
    # A read must not write at all: checked once for all its cases. A write is checked
    # after each case, to name the one that wrote.
    each = endpoint.method != "GET"
    before = _snapshot()
    for case in cases:
        # An id this table has no row for is 1: its cases then probe the 404 path.
        path_values = {
            name: str(samples.get(name, 1)) for name in _path_names(endpoint.path)
        } | case.path
        url = endpoint.path.format(**path_values) + (f"?{case.query}" if case.query else "")
        headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
        if case.content_type and case.body is not None:
            headers["Content-Type"] = case.content_type
        if endpoint.webhook and case.sign and case.body is not None:
            headers |= _sign(path_values["provider"], case.body)
        headers |= case.headers
        response = sender.send(endpoint.method, url, headers, case.body)
        problem = _judge(case, response)
        if each and (after := _snapshot()) != before:
            problem = (problem + "; " if problem else "") + "wrote to the database"
            before = after
        if problem:
            failures.append(f"{case.label}: {problem}")
    if not each and _snapshot() != before:
        failures.append("one of the cases wrote to the database")
    return len(cases), failures


def _path_names(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def _groups() -> list[Any]:
    """The endpoints grouped by layer and first path segment (``v2 orders``): one test,
    one set of rows and one flush per group keeps the table fast."""
    groups: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints():
        segment = endpoint.path.removeprefix("/api/").split("/")[1]
        groups.setdefault(f"{endpoint.layer} {segment}", []).append(endpoint)
    return [pytest.param(group, id=name) for name, group in groups.items()]


# --- the tests --------------------------------------------------------------------------------


def test_every_api_route_is_an_operation_of_one_of_the_documents() -> None:
    # A route missing from both documents would escape the table below.
    documented = {endpoint.path for endpoint in endpoints()}
    routes = {
        route
        for route in _walk(get_resolver().url_patterns)
        if route.startswith("api/") and route not in NOT_OPERATIONS
    }

    missing = sorted(r for r in routes if _as_template(r) not in documented)

    assert not missing, f"routes in neither OpenAPI document (so not fuzzed): {missing}"
    assert len(endpoints()) > 30


def test_every_string_and_integer_input_is_bounded() -> None:
    # Every length and range is checked by the schema before a service or the database
    # sees the value: strings have maxLength, integers a range, lists maxItems.
    unbounded = []
    for endpoint in endpoints():
        for parameter in endpoint.parameters:
            node = _resolve(endpoint.doc, parameter.get("schema", {}))
            found = _unbounded(_kind(node), node, parameter["name"], parameter["in"])
            if found:
                unbounded.append(f"{endpoint} {parameter['in']} {parameter['name']}: {found}")
        if endpoint.body is not None:
            for path, node in _fields(endpoint.doc, endpoint.body):
                name = ".".join(str(step) for step in path)
                found = _unbounded(_kind(node), node, str(path[-1]), "body")
                if found:
                    unbounded.append(f"{endpoint} body {name}: {found}")

    assert not unbounded, "\n".join(unbounded)


# The served app runs each request on a thread of its own: it must see committed rows.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("group", _groups())
def test_hostile_input_is_a_4xx_problem_and_writes_nothing(
    group: list[Endpoint], world: World, sender: Sender
) -> None:
    failures = []
    for endpoint in group:
        for role in endpoint.roles:
            count, found = run_cases(endpoint, role, world, sender)
            assert count > 5, endpoint
            failures += [f"{endpoint} as {role or 'anonymous'}: {f}" for f in found]

    assert not failures, "\n".join(failures)
