"""docs/api-style.md, checked: the same answer on both layers to the same kind of input."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.authentication.services import ClientInfo, session_start
from apps.catalog.tests.factories import make_product
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def _bearer(user: Any) -> str:
    return f"Bearer {session_start(user=user, client=ClientInfo()).access}"


def _assert_415(response: Any) -> None:
    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert "application/x-www-form-urlencoded" in body["detail"]


def test_a_form_body_is_415_on_v2(client: Client) -> None:
    response = client.post(
        "/api/v2/auth/login/",
        "email=ada%40example.com&password=secret",
        content_type="application/x-www-form-urlencoded",
    )

    _assert_415(response)


def test_a_form_body_is_415_on_v1(client: Client) -> None:
    store = StoreFactory.create()

    response = client.post(
        "/api/v1/vendor/products/",
        "name=Dress",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=_bearer(store.owner),
    )

    _assert_415(response)


@pytest.mark.parametrize("layer", ["v1", "v2"])
def test_a_body_without_a_content_type_is_415_on_both_layers(client: Client, layer: str) -> None:
    store = StoreFactory.create()
    path = "/api/v2/auth/me/" if layer == "v2" else "/api/v1/vendor/store/"

    # content_type="" sends the body with no media type, as `curl --data` without -H would.
    response = client.generic(
        "PATCH",
        path,
        b'{"full_name": "Ada", "name": "Ada"}',
        content_type="",
        HTTP_AUTHORIZATION=_bearer(store.owner),
    )

    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    store.refresh_from_db()
    store.owner.refresh_from_db()
    assert "Ada" not in (store.name, store.owner.full_name)


def test_a_json_suffix_media_type_is_read_as_json_on_v2(client: Client) -> None:
    response = client.post("/api/v2/auth/login/", "[]", content_type="application/vnd.api+json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


@pytest.mark.parametrize("path", ["/api/v2/products/?limit=500", "/api/v2/orders/?limit=500"])
def test_a_limit_above_the_maximum_is_capped_on_v2(client: Client, path: str) -> None:
    response = client.get(path, HTTP_AUTHORIZATION=_bearer(UserFactory.create()))

    assert response.status_code == 200, response.content


def test_a_limit_above_the_maximum_is_capped_on_v1() -> None:
    product = make_product()
    api = APIClient()
    api.force_authenticate(product.store.owner)

    response = api.get("/api/v1/vendor/products/", {"limit": 500})

    assert response.status_code == 200, response.content
    assert [p["id"] for p in response.json()["results"]] == [product.pk]


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
@pytest.mark.parametrize(
    "path", ["/api/v2/orders/", "/api/v2/products/", "/api/v1/vendor/products/"]
)
def test_a_limit_below_one_is_422_naming_it_on_both_layers(
    client: Client, path: str, limit: str
) -> None:
    store = StoreFactory.create()

    response = client.get(path, {"limit": limit}, HTTP_AUTHORIZATION=_bearer(store.owner))

    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]


def test_v1_products_carry_the_canonical_price_from_and_the_old_name() -> None:
    product = make_product()
    api = APIClient()
    api.force_authenticate(product.store.owner)

    body = api.get(f"/api/v1/vendor/products/{product.pk}/").json()

    assert body["price_from"] == body["min_price"] is not None


def test_timestamps_have_one_form_on_both_layers() -> None:
    from datetime import UTC, datetime

    from apps.orders.models import Order
    from apps.orders.tests.factories import place_order

    customer = UserFactory.create()
    order = place_order(customer=customer)
    Order.objects.filter(pk=order.pk).update(
        created_at=datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    )
    line = order.lines.first()
    assert line is not None
    vendor = APIClient()
    vendor.force_authenticate(line.store.owner)

    v1 = vendor.get("/api/v1/vendor/order-lines/").json()["results"][0]["ordered_at"]
    v2_detail = (
        Client()
        .get(f"/api/v2/orders/{order.pk}/", HTTP_AUTHORIZATION=_bearer(customer))
        .json()["created_at"]
    )
    v2_list = (
        Client()
        .get("/api/v2/orders/", HTTP_AUTHORIZATION=_bearer(customer))
        .json()["items"][0]["created_at"]
    )

    assert v1 == v2_detail == v2_list == "2030-01-02T03:04:05.123456Z"
