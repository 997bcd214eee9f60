"""v2 orders: placing (prices from the database, all or nothing, Idempotency-Key),
reading only one's own orders, cancelling, and bad input naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.authentication.models import User
from apps.authentication.services import ClientInfo, session_start
from apps.catalog.models import Variant
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import IdempotencyKey, Order, OrderLine, OrderStatus
from apps.orders.services import order_mark_paid
from apps.orders.tests.factories import ADDRESS, make_variant, place_order
from apps.vendors.models import StoreStatus
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v2/orders/"


class Customer:
    def __init__(self, client: Client, capture: Any, user: User) -> None:
        self.client, self.capture, self.user = client, capture, user
        self.sign_in()

    def sign_in(self) -> None:
        self.token = session_start(user=self.user, client=ClientInfo()).access

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        with self.capture(execute=True):
            return self.client.post(
                path,
                body if body is not None else {},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {self.token}",
                **headers,  # type: ignore[arg-type]
            )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, HTTP_AUTHORIZATION=f"Bearer {self.token}")


@pytest.fixture
def customer(client: Client, django_capture_on_commit_callbacks: Any) -> Customer:
    return Customer(client, django_capture_on_commit_callbacks, UserFactory.create())


@pytest.fixture
def other(django_capture_on_commit_callbacks: Any) -> Customer:
    return Customer(Client(), django_capture_on_commit_callbacks, UserFactory.create())


def _body(*items: tuple[Variant | int, int], **fields: Any) -> dict[str, Any]:
    return {
        "items": [
            {"variant_id": v if isinstance(v, int) else v.pk, "quantity": q} for v, q in items
        ],
        "delivery_address": ADDRESS,
        **fields,
    }


def _available(variant: Variant) -> int:
    return Stock.objects.get(variant=variant).available


def test_placing_an_order_prices_it_and_reserves_stock(customer: Customer) -> None:
    shirt = make_variant(stock=10, price="5000.00")
    shoes = make_variant(stock=3, price="12500.50")

    response = customer.post(URL, _body((shirt, 2), (shoes, 1), customer_notes="Ring twice"))

    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "pending_payment"
    assert Decimal(order["total_amount"]) == Decimal("22500.50")
    assert order["currency"] == "NGN"
    assert order["order_number"].startswith("FS-") and len(order["order_number"]) == 12
    assert [(i["variant_id"], i["quantity"]) for i in order["items"]] == [
        (shirt.pk, 2),
        (shoes.pk, 1),
    ]
    assert order["payments"] == [] and order["reserved_until"]
    assert (_available(shirt), _available(shoes)) == (8, 2)
    assert StockMovement.objects.filter(order_id=order["id"], reason="reserved").count() == 2
    confirmation = mail.outbox[-1]
    assert order["order_number"] in confirmation.subject and customer.user.email in confirmation.to


def test_client_prices_are_ignored(customer: Customer) -> None:
    shirt = make_variant(price="5000.00")
    body = _body((shirt, 1))
    body["items"][0]["price"] = "1.00"
    body["total_amount"] = "1.00"

    response = customer.post(URL, body)

    assert response.status_code == 201
    assert Decimal(response.json()["total_amount"]) == Decimal("5000.00")


def test_lines_for_one_variant_are_summed_against_stock(customer: Customer) -> None:
    shirt = make_variant(stock=5)

    response = customer.post(URL, _body((shirt, 3), (shirt, 3)))

    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert [line["index"] for line in problem["lines"]] == [0, 1]
    assert problem["lines"][0]["requested"] == 6 and problem["lines"][0]["available"] == 5
    assert {e["field"] for e in problem["errors"]} == {"items.0.quantity", "items.1.quantity"}


def test_a_failing_line_leaves_no_partial_write(customer: Customer) -> None:
    plenty = make_variant(stock=10)
    scarce = make_variant(stock=1)
    movements = StockMovement.objects.count()

    response = customer.post(URL, _body((plenty, 2), (scarce, 2)))

    assert response.status_code == 409
    assert [line["variant_id"] for line in response.json()["lines"]] == [scarce.pk]
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert (_available(plenty), _available(scarce)) == (10, 1)
    assert StockMovement.objects.count() == movements
    assert mail.outbox == []


def test_unknown_and_hidden_variants_are_named(customer: Customer) -> None:
    good = make_variant()
    hidden = make_variant(store=StoreFactory.create(status=StoreStatus.PENDING))
    inactive = make_variant()
    Variant.objects.filter(pk=inactive.pk).update(is_active=False)

    response = customer.post(URL, _body((good, 1), (999_999, 1), (hidden, 1), (inactive, 1)))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "items.1.variant_id",
        "items.2.variant_id",
        "items.3.variant_id",
    ]
    assert not Order.objects.exists() and _available(good) == 10


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"variant_id": 1, "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"variant_id": 1, "quantity": 1001}]}, "items.0.quantity"),
        ({"items": [{"variant_id": 1, "quantity": "two"}]}, "items.0.quantity"),
        ({"items": [{"variant_id": 0, "quantity": 1}]}, "items.0.variant_id"),
        ({"items": [{"quantity": 1}]}, "items.0.variant_id"),
        ({"items": [{"variant_id": 1, "quantity": 1}] * 101}, "items"),
        ({"delivery_address": "short"}, "delivery_address"),
        ({"delivery_address": "x" * 501}, "delivery_address"),
        ({"customer_notes": "x" * 1001}, "customer_notes"),
    ],
)
def test_bad_input_names_the_field(customer: Customer, change: dict[str, Any], field: str) -> None:
    response = customer.post(URL, {**_body((1, 1)), **change})

    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Order.objects.exists()


def test_an_address_of_blanks_is_refused(customer: Customer) -> None:
    response = customer.post(URL, _body((make_variant(), 1), delivery_address=" " * 20))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "delivery_address"


def test_placing_needs_a_token(client: Client) -> None:
    response = client.post(URL, _body((1, 1)), content_type="application/json")

    assert response.status_code == 401


def test_the_same_idempotency_key_and_body_return_the_first_order(customer: Customer) -> None:
    shirt = make_variant(stock=10)
    body = _body((shirt, 2))

    first = customer.post(URL, body, HTTP_IDEMPOTENCY_KEY="checkout-42")
    again = customer.post(URL, body, HTTP_IDEMPOTENCY_KEY="checkout-42")

    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1 and _available(shirt) == 8
    assert len(mail.outbox) == 1


def test_the_same_key_with_another_body_is_refused(customer: Customer) -> None:
    shirt = make_variant(stock=10)
    customer.post(URL, _body((shirt, 2)), HTTP_IDEMPOTENCY_KEY="checkout-42")

    response = customer.post(URL, _body((shirt, 3)), HTTP_IDEMPOTENCY_KEY="checkout-42")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Order.objects.count() == 1 and _available(shirt) == 8


def test_keys_are_per_customer_and_expire_after_a_day(
    customer: Customer, other: Customer, time_machine: Any
) -> None:
    time_machine.move_to("2026-11-22 10:00:00Z", tick=False)
    shirt = make_variant(stock=10)
    body = _body((shirt, 1))
    customer.sign_in()
    other.sign_in()
    customer.post(URL, body, HTTP_IDEMPOTENCY_KEY="k")

    assert other.post(URL, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    time_machine.shift(24 * 3600)
    customer.sign_in()
    assert customer.post(URL, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Order.objects.count() == 3
    assert IdempotencyKey.objects.count() == 2


def test_an_over_long_idempotency_key_is_refused(customer: Customer) -> None:
    response = customer.post(URL, _body((make_variant(), 1)), HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_customer_lists_and_reads_only_their_own_orders(
    customer: Customer, other: Customer
) -> None:
    mine = [place_order(customer=customer.user) for _ in range(3)]
    theirs = place_order(customer=other.user)
    order_mark_paid(order_id=mine[0].pk)

    page = customer.get(URL).json()
    paid = customer.get(URL, {"status": "paid"}).json()
    second = customer.get(URL, {"limit": 2, "offset": 2}).json()

    assert [o["id"] for o in page["items"]] == [o.pk for o in reversed(mine)]
    assert page["count"] == 3 and page["next_offset"] is None
    assert [o["id"] for o in paid["items"]] == [mine[0].pk]
    assert second["count"] == 3 and len(second["items"]) == 1
    assert customer.get(f"{URL}{mine[1].pk}/").json()["order_number"] == mine[1].order_number
    assert customer.get(f"{URL}{theirs.pk}/").status_code == 404
    assert customer.get(f"{URL}999999/").status_code == 404


def test_list_bad_input_names_the_field(customer: Customer) -> None:
    for params, field in (
        ({"status": "shipped"}, "status"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        response = customer.get(URL, params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field
    # Above the maximum is not an error: the page is capped (docs/api-style.md).
    assert customer.get(URL, {"limit": 101}).status_code == 200


def test_cancelling_releases_the_stock(customer: Customer) -> None:
    shirt = make_variant(stock=4)
    order = place_order(customer=customer.user, items=[(shirt, 3)])

    response = customer.post(f"{URL}{order.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert _available(shirt) == 4
    assert StockMovement.objects.filter(order_id=order.pk, reason="released").count() == 1
    again = customer.post(f"{URL}{order.pk}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    assert _available(shirt) == 4


def test_another_customers_order_cannot_be_cancelled(customer: Customer, other: Customer) -> None:
    order = place_order(customer=other.user)

    response = customer.post(f"{URL}{order.pk}/cancel/")

    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


def test_a_paid_order_cannot_be_cancelled(customer: Customer) -> None:
    order = place_order(customer=customer.user)
    order_mark_paid(order_id=order.pk)

    response = customer.post(f"{URL}{order.pk}/cancel/")

    assert response.status_code == 409


def test_order_bodies_match_the_declared_schemas(customer: Customer) -> None:
    # Placing and reading an order answer the selector's shape serialised once, not
    # through the schema: they must still be exactly what the OpenAPI document promises.
    from apps.common.tests.schemas import assert_matches_schema
    from apps.orders.apis.ninja_router import OrderDetailOut
    from apps.payments.models import Payment

    created = customer.post("/api/v2/orders/", _body((make_variant(), 2)))
    assert created.status_code == 201
    assert_matches_schema(OrderDetailOut, created.json())
    order = Order.objects.get(pk=created.json()["id"])
    Payment.objects.create(
        order=order,
        provider="paystack",
        reference="FS-schema-check",
        amount=order.total_amount,
        currency=order.currency,
    )

    detail = customer.get(f"/api/v2/orders/{order.pk}/").json()

    assert detail["payments"]
    assert_matches_schema(OrderDetailOut, detail)
