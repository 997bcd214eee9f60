"""Confirming a payment: ask the provider, then settle the order exactly once.

``payment_confirm`` is what both the webhook task and the client's "verify" call run.
The provider's answer is checked (amount and currency must match what we asked for),
then one transaction locks the order row and the payment row: the first confirmation
marks both paid and turns the reserved stock into sold; any later or racing one finds
them paid and reports "already paid". Money that arrives for an order that can no longer
take it (cancelled, expired, or paid by another payment) is kept on record and flagged
for refund, never dropped.
"""

from __future__ import annotations

from typing import Literal

import structlog
from django.db import transaction
from django.utils import timezone

from apps.common.events import publish
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_mark_paid
from apps.payments.events import PaymentFlaggedForRefund
from apps.payments.exceptions import ProviderRefused, ProviderUnavailable
from apps.payments.models import Payment, PaymentStatus
from apps.payments.money import to_minor
from apps.payments.providers.base import (
    PermanentProviderError,
    TransientProviderError,
    Verification,
)
from apps.payments.providers.registry import get_provider

logger = structlog.get_logger(__name__)

Outcome = Literal["paid", "already paid", "pending", "failed", "mismatch", "flagged for refund"]
SETTLED = {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}


def payment_confirm(*, payment_id: int) -> Outcome:
    """Verify ``payment_id`` with its provider and settle it. Provider errors propagate
    (``TransientProviderError`` is worth retrying). Raises ``Payment.DoesNotExist``."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status in SETTLED:
        return _settled_outcome(payment)
    if payment.status == PaymentStatus.MISMATCH:
        return "mismatch"
    verification = get_provider(payment.provider).verify(
        reference=payment.reference, provider_payment_id=payment.provider_payment_id
    )
    return payment_settle(payment_id=payment.pk, verification=verification)


def _settled_outcome(payment: Payment) -> Outcome:
    """A payment already settled: money the order could not keep stays "flagged for
    refund" until staff refund it — never "already paid"."""
    return "flagged for refund" if payment.needs_refund else "already paid"


def payment_check(*, payment_id: int) -> Outcome:
    """``payment_confirm`` for a waiting client: provider trouble becomes
    ``ProviderUnavailable`` (503, try again) or ``ProviderRefused`` (502)."""
    try:
        return payment_confirm(payment_id=payment_id)
    except TransientProviderError as error:
        raise ProviderUnavailable("The payment provider did not answer; try again.") from error
    except PermanentProviderError as error:
        raise ProviderRefused(str(error)) from error


def _matches(payment: Payment, verification: Verification) -> bool:
    return (
        verification.amount_minor == to_minor(payment.amount, payment.currency)
        and verification.currency.upper() == payment.currency.upper()
    )


@transaction.atomic
def payment_settle(*, payment_id: int, verification: Verification) -> Outcome:
    """Apply the provider's verified answer to the payment and its order, once."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    # Lock order first, then payment: the same order as every other writer.
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if payment.status in SETTLED:
        return _settled_outcome(payment)
    if verification.state == "pending":
        return "pending"
    if verification.state == "failed":
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.FAILED
            payment.failure_reason = verification.failure_reason[:255] or "declined"
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
            logger.info("payment.failed", payment_id=payment.pk, reason=payment.failure_reason)
        return "failed"
    if not _matches(payment, verification):
        payment.status = PaymentStatus.MISMATCH
        payment.failure_reason = (
            f"provider reported {verification.amount_minor} {verification.currency}"
        )[:255]
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
        logger.error(
            "payment.amount_mismatch",
            alert=True,
            payment_id=payment.pk,
            order_id=order.pk,
            expected_minor=to_minor(payment.amount, payment.currency),
            expected_currency=payment.currency,
            reported_minor=verification.amount_minor,
            reported_currency=verification.currency,
        )
        return "mismatch"
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = timezone.now()
    if verification.provider_payment_id:
        payment.provider_payment_id = verification.provider_payment_id
    outcome: Outcome
    if order.status == OrderStatus.PENDING_PAYMENT:
        order_mark_paid(order_id=order.pk)
        outcome = "paid"
    else:
        reason = (
            "order_already_paid"
            if order.status != OrderStatus.CANCELLED
            else (f"order_{order.cancel_reason or 'cancelled'}")
        )
        payment.needs_refund = True
        payment.needs_refund_reason = reason[:64]
        publish(PaymentFlaggedForRefund(payment_id=payment.pk, reason=reason))
        logger.error(
            "payment.needs_refund",
            alert=True,
            payment_id=payment.pk,
            order_id=order.pk,
            reason=reason,
        )
        outcome = "flagged for refund"
    payment.save(
        update_fields=[
            "status",
            "succeeded_at",
            "provider_payment_id",
            "needs_refund",
            "needs_refund_reason",
            "updated_at",
        ]
    )
    logger.info("payment.succeeded", payment_id=payment.pk, order_id=order.pk, outcome=outcome)
    return outcome
