"""A refund the provider refuses fails on its own: another payment's refund that is still
waiting for the provider stays pending with its amount reserved, and the refused one
records why it failed and frees exactly its own amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.payments.models import Payment, Refund, RefundStatus
from apps.payments.tests.test_refunds import Shop
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db


def test_a_refused_refund_fails_alone_and_says_why(
    payment_sandbox: SandboxServer, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    waiting = Shop(payment_sandbox, django_capture_on_commit_callbacks, "stripe")
    refused = Shop(payment_sandbox, django_capture_on_commit_callbacks, "stripe")
    settings.PAYMENT_HTTP_TIMEOUT = 0.3
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    assert waiting.refund({"amount": "100.00"}).status_code == 202
    payment_sandbox.set_behaviour(refused.payment.provider_payment_id, "refund_failed", times=1)

    assert refused.refund({"amount": "40.00"}).status_code == 502

    pending = Refund.objects.get(payment=waiting.payment)
    failed = Refund.objects.get(payment=refused.payment)
    assert pending.status == RefundStatus.PENDING
    assert (failed.status, failed.next_attempt_at) == (RefundStatus.FAILED, None)
    assert failed.failure_reason
    amounts = dict(Payment.objects.values_list("pk", "refunded_amount"))
    assert amounts == {waiting.payment.pk: Decimal("100.00"), refused.payment.pk: Decimal("0")}
