"""Refund retries racing on PostgreSQL: of several staff retries (and the reconciler) at
once, one reaches the provider; the sandbox records one refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.orders.tests.factories import make_variant, place_order
from apps.payments.models import Payment, Refund, RefundStatus
from apps.payments.services import (
    payment_confirm,
    payment_refund,
    payment_start,
    refund_settle,
)
from apps.payments.services.refunds import RETRY_WAIT
from apps.payments.tests.test_concurrency import _together
from apps.vendors.tests.factories import StaffFactory, UserFactory
from tools.sandbox import SandboxServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_simultaneous_retries_of_a_pending_paystack_refund_refund_once(
    payment_sandbox: SandboxServer, time_machine: Any, settings: Any
) -> None:
    # Given a paid Paystack payment whose refund call got a 5xx (nothing refunded yet)
    time_machine.move_to(timedelta(0), tick=False)
    customer = UserFactory.create()
    order = place_order(customer=customer, items=[(make_variant(stock=5), 2)])
    payment, _ = payment_start(customer_id=customer.pk, order_id=order.pk, provider="paystack")
    payment_sandbox.pay("paystack", payment.reference)
    assert payment_confirm(payment_id=payment.pk) == "paid"
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    refund = payment_refund(payment_id=payment.pk, amount=Decimal("1000.00"), actor=None)
    assert refund.status == RefundStatus.PENDING
    time_machine.shift(RETRY_WAIT + timedelta(seconds=1))
    # A slow provider (each answer 0.3 s late, well inside the timeout) keeps the racers'
    # calls overlapping; a part refund leaves room for duplicates to be recorded.
    payment_sandbox.set_behaviour("*", "timeout", delay=0.3)
    settings.PAYMENT_HTTP_TIMEOUT = 5.0  # a loaded machine must not turn slow into timed out
    token = session_start(user=StaffFactory.create(), client=ClientInfo()).access
    url = f"/api/v1/payments/{payment.pk}/refunds/{refund.pk}/retry/"

    def retry() -> Any:
        return Client().post(url, HTTP_AUTHORIZATION=f"Bearer {token}")

    def reconcile() -> Any:
        return refund_settle(refund_id=refund.pk)

    # When four staff retries and the reconciler ask at once (Paystack has no key: two
    # look-ups at once would both find nothing and both refund)
    results = _together([retry, retry, retry, retry, reconcile])

    # Then one call reached the provider and the others were turned away
    statuses = [r.status_code for r in results[:4]]
    asked = sum(status != 409 for status in statuses) + (results[4] == "succeeded")
    assert asked == 1, (statuses, results[4])
    [txn] = payment_sandbox.state()["transactions"]
    assert len(txn["refunds"]) == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.attempts == 2
    assert Payment.objects.get(pk=payment.pk).refunded_amount == Decimal("1000.00")
    assert Refund.objects.count() == 1
