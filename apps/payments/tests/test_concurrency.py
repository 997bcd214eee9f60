"""Confirmation races on PostgreSQL: redelivered webhooks arriving together, and a
webhook racing the customer's own "verify" — the order is paid exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.inventory.models import StockMovement
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.models import Payment, WebhookEvent
from apps.payments.services import payment_start
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _together(actions: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _webhook_post(webhook: dict[str, Any]) -> Callable[[], Any]:
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in webhook["headers"].items()
        if k.lower() != "content-type"
    }

    def post() -> Any:
        return Client().post(
            f"/api/v2/webhooks/{webhook['provider']}/",
            webhook["body"],
            content_type="application/json",
            **headers,
        )

    return post


@pytest.fixture
def paid_at_provider(payment_sandbox: SandboxServer) -> tuple[Order, Payment, dict[str, Any]]:
    customer = UserFactory.create()
    order = place_order(customer=customer, items=[(make_variant(stock=5), 2)])
    payment, _ = payment_start(customer_id=customer.pk, order_id=order.pk, provider="stripe")
    payment_sandbox.pay("stripe", payment.provider_payment_id)
    webhook = [w for w in payment_sandbox.sent_webhooks if "succeeded" in str(w["type"])][-1]
    mail.outbox.clear()
    return order, payment, webhook


def _paid_once(order: Order) -> None:
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert StockMovement.objects.filter(order_id=order.pk, reason="sold").count() == 1
    assert sum("Receipt" in m.subject for m in mail.outbox) == 1


def test_five_simultaneous_deliveries_of_one_webhook_pay_once(
    paid_at_provider: tuple[Order, Payment, dict[str, Any]],
) -> None:
    order, _, webhook = paid_at_provider

    responses = _together([_webhook_post(webhook)] * 5)
    responses += [_webhook_post(webhook)() for _ in range(5)]

    assert all(r.status_code == 200 for r in responses)
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 9
    assert WebhookEvent.objects.count() == 1
    _paid_once(order)


def test_a_webhook_racing_the_customers_verify_pays_once(
    paid_at_provider: tuple[Order, Payment, dict[str, Any]],
) -> None:
    order, payment, webhook = paid_at_provider
    token = session_start(user=order.customer, client=ClientInfo()).access

    def verify() -> Any:
        return Client().post(
            f"/api/v2/orders/{order.pk}/payments/{payment.pk}/verify/",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    for _ in range(3):  # several rounds of the same race change nothing more
        responses = _together([_webhook_post(webhook), verify, verify, verify])
        assert all(r.status_code == 200 for r in responses), [r.content for r in responses]

    outcomes = [r.json()["outcome"] for r in responses[1:]]
    assert set(outcomes) == {"already paid"}
    _paid_once(order)
