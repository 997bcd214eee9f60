"""What both OpenAPI documents promise about errors, pages and names — checked against
the documents the running app serves. That every route under /api/ is an operation of
one of them is checked by ``test_hostile_input`` (``test_every_api_route_is_an_…``)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from ninja import Schema

from apps.common.apis.openapi import operations

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def documents(django_db_blocker: Any) -> dict[str, dict[str, Any]]:
    with django_db_blocker.unblock():
        client = Client()
        return {
            "v1": client.get("/api/v1/schema/?format=json").json(),
            "v2": client.get("/api/v2/openapi.json").json(),
        }


def _all(documents: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (layer, path, method, operation)
        for layer, document in documents.items()
        for path, method, operation in operations(document)
    ]


def test_every_error_response_is_documented_as_problem_json(documents: Any) -> None:
    wrong = [
        f"{layer} {method.upper()} {path} {code}: {sorted(response.get('content', {}))}"
        for layer, path, method, operation in _all(documents)
        for code, response in operation["responses"].items()
        if int(code) >= 400 and list(response.get("content", {})) != [PROBLEM]
    ]

    assert not wrong, "\n".join(wrong)
    for document in documents.values():
        assert "Problem" in document["components"]["schemas"]


def test_operations_document_401_422_429_503_where_they_apply(documents: Any) -> None:
    missing = []
    for layer, path, method, operation in _all(documents):
        responses = operation["responses"]
        expected = {"503"}
        if any(operation.get("security") or []):
            expected.add("401")
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        if "{" in path:
            expected.add("404")
        if path != "/api/v2/webhooks/{provider}/":  # signed by the provider, not throttled
            expected.add("429")
        lacking = expected - responses.keys()
        if lacking:
            missing.append(f"{layer} {method.upper()} {path}: {sorted(lacking)}")

    assert not missing, "\n".join(missing)


def test_vendor_operations_document_403(documents: Any) -> None:
    products = documents["v1"]["paths"]["/api/v1/vendor/products/"]

    assert "403" in products["get"]["responses"] and "403" in products["post"]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/vendor/products/", "/api/v1/vendor/order-lines/"])
def test_v1_lists_document_their_page_and_its_parameters(documents: Any, path: str) -> None:
    document = documents["v1"]
    operation = document["paths"][path]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]

    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}


def test_v2_schema_names_are_unique() -> None:
    # Ninja names a component after its class: two classes with one name silently become
    # one schema in the document (the other operation then documents the wrong shape).
    def subclasses(cls: type) -> list[type]:
        direct: list[type] = cls.__subclasses__()
        return [sub for child in direct for sub in (child, *subclasses(child))]

    import config.ninja_api  # noqa: F401 - every v2 schema is defined once the API is

    names = Counter(
        cls.__name__ for cls in set(subclasses(Schema)) if cls.__module__.startswith("apps.")
    )

    assert [name for name, count in names.items() if count > 1] == []


def test_the_payments_of_an_order_detail_match_their_schema(documents: Any) -> None:
    from apps.authentication.services import ClientInfo, session_start
    from apps.orders.tests.factories import place_order
    from apps.payments.models import Payment

    order = place_order()
    Payment.objects.create(
        order=order,
        provider="paystack",
        reference="FS-contract-check",
        amount=order.total_amount,
        currency=order.currency,
    )
    token = session_start(user=order.customer, client=ClientInfo()).access
    body = Client().get(f"/api/v2/orders/{order.pk}/", HTTP_AUTHORIZATION=f"Bearer {token}").json()

    schemas = documents["v2"]["components"]["schemas"]
    detail = documents["v2"]["paths"]["/api/v2/orders/{order_id}/"]["get"]["responses"]["200"]
    order_schema = schemas[detail["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
    payment_ref = order_schema["properties"]["payments"]["items"]["$ref"].split("/")[-1]
    payment_schema = schemas[payment_ref]
    assert body["payments"]
    for payment in body["payments"]:
        assert set(payment_schema["required"]) <= payment.keys()
        assert payment.keys() <= payment_schema["properties"].keys()
    assert set(order_schema["required"]) <= body.keys()


def test_v1_state_conflicts_are_documented(documents: Any) -> None:
    paths = documents["v1"]["paths"]

    assert "409" in paths["/api/v1/vendor/order-lines/{line_id}/fulfil/"]["post"]["responses"]
    refunds = paths["/api/v1/payments/{payment_id}/refunds/"]["post"]["responses"]
    assert {"409", "502"} <= refunds.keys()


def test_operation_ids_are_short_unique_and_not_module_paths(documents: Any) -> None:
    # Generated clients name their functions after operation ids: a module path
    # (``apps_orders_apis_ninja_router_create_order``) or a clash breaks them.
    for layer, document in documents.items():
        ids = [
            operation.get("operationId", "") for _path, _method, operation in operations(document)
        ]
        unreadable = [
            op_id
            for op_id in ids
            if not re.fullmatch(r"[a-z][a-z0-9_]{2,39}", op_id) or op_id.startswith("apps_")
        ]

        assert unreadable == [], layer
        assert [op_id for op_id, count in Counter(ids).items() if count > 1] == [], layer


def test_v2_orders_and_payments_are_named_noun_first(documents: Any) -> None:
    ids = {
        (method, path): operation["operationId"]
        for path, method, operation in operations(documents["v2"])
    }

    assert ids["post", "/api/v2/orders/"] == "order_create"
    assert ids["get", "/api/v2/orders/{order_id}/"] == "order_get"
    assert ids["post", "/api/v2/orders/{order_id}/payments/"] == "payment_start"
    assert ids["get", "/api/v2/products/"] == "product_list"
