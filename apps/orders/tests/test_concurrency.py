"""Checkout under concurrency on PostgreSQL, through the HTTP API, each request on its
own thread and database connection: never oversold, never deadlocked, never a 5xx, and
one Idempotency-Key gives one order however many requests race."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.common.errors import ApplicationError
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order
from apps.orders.services import OrderItem, order_create
from apps.orders.tests.factories import ADDRESS, make_variant
from apps.vendors.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

URL = "/api/v2/orders/"


def _hammer(requests: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[Any]:
    """Fire every ``(token, body, headers)`` at once, one thread each; the responses."""
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)

    def send(index: int, token: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        client = Client()
        barrier.wait()
        try:
            responses[index] = client.post(
                URL,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                **headers,  # type: ignore[arg-type]
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung (deadlock?)"
    return responses


def _last_20_units_setup(round_: int) -> tuple[Any, Any, list[list[tuple[int, int]]]]:
    scarce = make_variant(stock=20)
    plenty = make_variant(stock=1000)
    rng = random.Random(round_)
    baskets = []
    for _ in range(200):
        # Lines in either order: the reservation locks rows in id order regardless, so
        # crossing orders cannot deadlock.
        lines = [(scarce.pk, 1), (plenty.pk, 1)]
        rng.shuffle(lines)
        baskets.append(lines)
    return scarce, plenty, baskets


def _assert_exactly_20_sold(statuses: Counter[int], scarce: Any, plenty: Any) -> None:
    assert statuses == {201: 20, 409: 180}, statuses
    assert Order.objects.count() == 20
    scarce_stock = Stock.objects.get(variant=scarce)
    assert (scarce_stock.on_hand, scarce_stock.reserved, scarce_stock.available) == (20, 20, 0)
    assert Stock.objects.get(variant=plenty).reserved == 20
    assert StockMovement.objects.filter(variant=scarce, reason="reserved").count() == 20


def test_200_http_buyers_of_the_last_20_units_make_exactly_20_orders() -> None:
    scarce, plenty, baskets = _last_20_units_setup(0)
    tokens = [
        session_start(user=UserFactory.create(), client=ClientInfo()).access for _ in range(20)
    ]
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (
            tokens[index % len(tokens)],
            {
                "items": [{"variant_id": v, "quantity": q} for v, q in lines],
                "delivery_address": ADDRESS,
            },
            {},
        )
        for index, lines in enumerate(baskets)
    ]

    responses = _hammer(requests)

    _assert_exactly_20_sold(Counter(r.status_code for r in responses), scarce, plenty)
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] == "insufficient_stock"
    assert [line["variant_id"] for line in refused["lines"]] == [scarce.pk]


@pytest.mark.parametrize("round_", range(1, 5))
def test_200_concurrent_checkouts_of_the_last_20_units_again(round_: int) -> None:
    """Four more rounds straight at the service (the HTTP round above covers the API),
    200 threads released at once, each on its own pooled connection."""
    scarce, plenty, baskets = _last_20_units_setup(round_)
    customers = [UserFactory.create().pk for _ in range(20)]
    barrier = threading.Barrier(len(baskets))
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def checkout(index: int, lines: list[tuple[int, int]]) -> None:
        barrier.wait()
        try:
            order_create(
                customer_id=customers[index % len(customers)],
                items=[OrderItem(v, q) for v, q in lines],
                delivery_address=ADDRESS,
            )
            outcome = 201
        except ApplicationError as error:
            outcome = error.status
        except Exception:
            outcome = 500
        finally:
            connection.close()
        with lock:
            statuses[outcome] += 1

    threads = [
        threading.Thread(target=checkout, args=(index, lines))
        for index, lines in enumerate(baskets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a checkout hung (deadlock?)"

    _assert_exactly_20_sold(statuses, scarce, plenty)


def test_20_racing_requests_with_one_idempotency_key_make_one_order() -> None:
    shirt = make_variant(stock=100)
    token = session_start(user=UserFactory.create(), client=ClientInfo()).access
    body = {"items": [{"variant_id": shirt.pk, "quantity": 2}], "delivery_address": ADDRESS}

    responses = _hammer([(token, body, {"HTTP_IDEMPOTENCY_KEY": "pay-once"})] * 20)

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 200: 19}, statuses
    assert len({response.json()["id"] for response in responses}) == 1
    assert Order.objects.count() == 1
    assert Stock.objects.get(variant=shirt).reserved == 2
