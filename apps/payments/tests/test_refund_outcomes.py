"""What a succeeded refund does to the payment and the order: a part leaves the payment
partially refunded and the order paid; the refund that completes the amount makes both
refunded and clears a flag for refund. A refund still pending is not money returned, and
one recorded to be sent later holds its amount until it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.common.events import Event, subscribe
from apps.orders.models import Order, OrderStatus
from apps.payments.events import PaymentRefunded
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.services import payment_refund, refund_record, refund_retry
from apps.payments.tests.test_refunds import Shop
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunded_events(clean_event_handlers: None) -> Iterator[list[Event]]:
    seen: list[Event] = []
    subscribe(PaymentRefunded)(seen.append)
    yield seen


def _state(shop: Shop) -> tuple[str, str, bool]:
    payment = Payment.objects.get(pk=shop.payment.pk)
    order = Order.objects.get(pk=shop.order.pk)
    return payment.status, order.status, payment.needs_refund


def test_a_part_then_the_rest(
    payment_sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Any,
    refunded_events: list[Event],
) -> None:
    shop = Shop(payment_sandbox, django_capture_on_commit_callbacks, "stripe")
    Payment.objects.filter(pk=shop.payment.pk).update(needs_refund=True)

    with django_capture_on_commit_callbacks(execute=True):
        part = payment_refund(payment_id=shop.payment.pk, amount=Decimal("0.01"), actor=None)
    assert part.status == RefundStatus.SUCCEEDED
    assert _state(shop) == (PaymentStatus.PARTIALLY_REFUNDED, OrderStatus.PAID, True)

    with django_capture_on_commit_callbacks(execute=True):
        rest = payment_refund(payment_id=shop.payment.pk, amount=None, actor=None)

    assert rest.amount == shop.payment.amount - Decimal("0.01")
    assert _state(shop) == (PaymentStatus.REFUNDED, OrderStatus.REFUNDED, False)
    assert refunded_events == [
        PaymentRefunded(payment_id=shop.payment.pk, refund_id=part.pk, full=False),
        PaymentRefunded(payment_id=shop.payment.pk, refund_id=rest.pk, full=True),
    ]


def test_a_pending_refund_does_not_count_as_money_returned(
    payment_sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    refunded_events: list[Event],
) -> None:
    shop = Shop(payment_sandbox, django_capture_on_commit_callbacks, "stripe")
    settings.PAYMENT_HTTP_TIMEOUT = 0.3
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    waiting = payment_refund(payment_id=shop.payment.pk, amount=Decimal("100.00"), actor=None)
    assert waiting.status == RefundStatus.PENDING
    # asked again only after a pause, with what went wrong kept
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > timezone.now()
    assert waiting.last_error

    with django_capture_on_commit_callbacks(execute=True):
        done = payment_refund(payment_id=shop.payment.pk, amount=Decimal("50.00"), actor=None)

    assert (done.status, done.last_error, done.next_attempt_at) == (
        RefundStatus.SUCCEEDED,
        "",
        None,
    )
    assert Refund.objects.get(pk=waiting.pk).status == RefundStatus.PENDING
    assert _state(shop) == (PaymentStatus.PARTIALLY_REFUNDED, OrderStatus.PAID, False)
    assert refunded_events == [
        PaymentRefunded(payment_id=shop.payment.pk, refund_id=done.pk, full=False)
    ]


def test_a_recorded_refund_reserves_its_amount_and_is_sent_once_when_retried(
    payment_sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Any,
    django_user_model: Any,
) -> None:
    shop = Shop(payment_sandbox, django_capture_on_commit_callbacks, "stripe")
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")
    store_id = shop.order.lines.values_list("store_id", flat=True).first()

    recorded = refund_record(
        payment_id=shop.payment.pk,
        amount=Decimal("30.00"),
        reason="returned item",
        store_id=store_id,
        actor=staff,
    )

    assert (recorded.status, recorded.attempts, recorded.next_attempt_at) == (
        RefundStatus.PENDING,
        0,
        None,
    )
    assert (recorded.payment_id, recorded.amount, recorded.reason) == (
        shop.payment.pk,
        Decimal("30.00"),
        "returned item",
    )
    assert (recorded.store_id, recorded.actor_id) == (store_id, staff.pk)
    assert Payment.objects.get(pk=shop.payment.pk).refunded_amount == Decimal("30.00")
    assert shop.provider_refunds() == []

    with django_capture_on_commit_callbacks(execute=True):
        sent = refund_retry(refund_id=recorded.pk, actor=staff)

    assert (sent.status, sent.attempts) == (RefundStatus.SUCCEEDED, 1)
    assert len(shop.provider_refunds()) == 1
