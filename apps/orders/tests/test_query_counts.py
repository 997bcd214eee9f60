"""Placing an order costs the same number of queries however many lines it has: at the
service and through ``POST /api/v2/orders/``, accepted or refused for lack of stock."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.authentication.services import ClientInfo, session_start
from apps.catalog.models import Variant
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderLine
from apps.orders.services import OrderItem, order_create
from apps.orders.tests.factories import ADDRESS, make_variant, place_order
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v2/orders/"
LINE_COUNTS = [1, 5, 20, 100]

# Inside the test's transaction, so the service's own transaction is a savepoint (2).
# Then: the variants (1), the stores' shipping methods (1), the order in its savepoint (3),
# the reservation in its savepoint: lock the stock rows, update them, write the ledger
# (5), the lines (1), the shipments (1), and the order-created event into the outbox (1).
# (With commission rules for the order's stores, one more reads them:
# apps/payouts/tests/test_commission.py.)
PLACEMENT_QUERIES = 15
# An Idempotency-Key adds: expired keys dropped (1), the key inserted in its savepoint (3)
# and pointed at the order (1).
KEYED_PLACEMENT_QUERIES = PLACEMENT_QUERIES + 5
# The endpoint then reads the order back: the order, its lines, payments and shipments.
ENDPOINT_QUERIES = KEYED_PLACEMENT_QUERIES + 4
# A refusal with a key: as far as the locking read (13), its savepoint rolled back (2), the
# availability of the short lines read for the answer (1), everything rolled back (2).
REFUSED_QUERIES = 18


def _variants(count: int, *, stock: int = 50) -> list[Variant]:
    store = StoreFactory.create()
    return [make_variant(store=store, stock=stock) for _ in range(count)]


def _queries_to_place(items: list[OrderItem], **fields: Any) -> int:
    customer = UserFactory.create()
    with CaptureQueriesContext(connection) as queries:
        order_create(customer_id=customer.pk, items=items, delivery_address=ADDRESS, **fields)
    return len(queries)


@pytest.mark.parametrize("lines", LINE_COUNTS)
def test_placing_an_order_costs_a_fixed_number_of_queries(lines: int) -> None:
    variants = _variants(lines)

    plain = _queries_to_place([OrderItem(variant.pk, 2) for variant in variants])
    keyed = _queries_to_place(
        [OrderItem(variant.pk, 1) for variant in variants], idempotency_key=f"key-{lines}"
    )

    assert (plain, keyed) == (PLACEMENT_QUERIES, KEYED_PLACEMENT_QUERIES)
    assert OrderLine.objects.count() == 2 * lines
    assert StockMovement.objects.filter(reason="reserved").count() == 2 * lines
    assert set(Stock.objects.values_list("reserved", flat=True)) == {3}


def test_lines_repeating_a_variant_cost_no_more() -> None:
    shirt, shoes = _variants(2)
    items = [OrderItem(variant.pk, 1) for variant in [shirt, shoes] * 10]

    assert _queries_to_place(items) == PLACEMENT_QUERIES
    assert Stock.objects.get(variant=shirt).reserved == 10
    movement = StockMovement.objects.get(variant=shirt, reason="reserved")
    assert (movement.reserved_delta, movement.on_hand_after, movement.reserved_after) == (
        10,
        50,
        10,
    )


# --- through the v2 endpoint -----------------------------------------------------------


def _post(client: Client, token: str, body: dict[str, Any], key: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            URL,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )
    return response, len(queries)


def _body(items: list[tuple[Variant, int]]) -> dict[str, Any]:
    return {
        "items": [{"variant_id": variant.pk, "quantity": q} for variant, q in items],
        "delivery_address": ADDRESS,
    }


@pytest.fixture
def token(django_capture_on_commit_callbacks: Any) -> str:
    # Signed in as in production: the commit leaves the session's "live" marker in the
    # cache, so authenticating costs no query (a cold cache costs one, tested elsewhere).
    with django_capture_on_commit_callbacks(execute=True):
        return session_start(user=UserFactory.create(), client=ClientInfo()).access


@pytest.mark.parametrize("lines", LINE_COUNTS)
def test_the_endpoint_places_an_order_in_a_fixed_number_of_queries(
    lines: int, client: Client, token: str
) -> None:
    variants = _variants(lines)

    response, queries = _post(client, token, _body([(v, 1) for v in variants]), "checkout")

    assert response.status_code == 201, response.content
    assert len(response.json()["items"]) == lines
    assert queries == ENDPOINT_QUERIES


@pytest.mark.parametrize("lines", LINE_COUNTS)
def test_the_endpoint_refuses_in_a_fixed_number_of_queries(
    lines: int, client: Client, token: str
) -> None:
    sold_out = _variants(lines, stock=0)
    body = _body([(variant, 1) for variant in sold_out])

    first, first_queries = _post(client, token, body, "refused-1")
    second, second_queries = _post(client, token, body, "refused-2")

    assert (first.status_code, second.status_code) == (409, 409)
    assert len(first.json()["lines"]) == lines
    assert first_queries == second_queries == REFUSED_QUERIES


def test_a_409_names_every_short_line(client: Client, token: str) -> None:
    plenty = _variants(17, stock=50)
    scarce, sold_out, low = make_variant(stock=2), make_variant(stock=0), make_variant(stock=10)
    place_order(items=[(low, 7)])  # 3 left
    items = [(v, 1) for v in plenty[:10]]
    items += [(scarce, 2), (sold_out, 1)]
    items += [(v, 1) for v in plenty[10:]]
    items += [(low, 4), (scarce, 1)]
    movements = StockMovement.objects.count()

    response, queries = _post(client, token, _body(items), "short")

    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert queries == REFUSED_QUERIES
    assert problem["lines"] == [
        {"index": 10, "variant_id": scarce.pk, "requested": 3, "available": 2},
        {"index": 11, "variant_id": sold_out.pk, "requested": 1, "available": 0},
        {"index": 19, "variant_id": low.pk, "requested": 4, "available": 3},
        {"index": 20, "variant_id": scarce.pk, "requested": 3, "available": 2},
    ]
    assert [error["field"] for error in problem["errors"]] == [
        "items.10.quantity",
        "items.11.quantity",
        "items.19.quantity",
        "items.20.quantity",
    ]
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert StockMovement.objects.count() == movements
    assert set(Stock.objects.filter(variant__in=plenty).values_list("reserved", flat=True)) == {0}
    # The refused attempt did not use up its Idempotency-Key.
    retried, _ = _post(client, token, _body(items[:10]), "short")
    assert retried.status_code == 201
