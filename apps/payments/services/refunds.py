"""Refunds by staff, through the payment's provider."""

from __future__ import annotations

from decimal import Decimal

import structlog
from django.db import transaction
from django.db.models import F

from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.common.events import publish
from apps.orders.models import OrderStatus
from apps.orders.services import order_mark_refunded
from apps.payments.events import PaymentRefunded
from apps.payments.exceptions import ProviderRefused, ProviderUnavailable
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.money import to_minor
from apps.payments.providers.base import PermanentProviderError, TransientProviderError
from apps.payments.providers.registry import get_provider

logger = structlog.get_logger(__name__)

REFUNDABLE = {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED}


def _claim(payment_id: int, amount: Decimal | None, reason: str, actor: User | None) -> Refund:
    """Reserve the amount on the payment (row lock) and record a pending refund, so two
    staff refunding at once cannot refund more than was paid."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound("Payment not found.", code="payment_not_found")
        if payment.status not in REFUNDABLE:
            raise Conflict(
                "Only succeeded payments can be refunded.",
                code="payment_not_refundable",
                details={"payment_status": payment.status},
            )
        amount = payment.refundable_amount if amount is None else amount
        if amount <= 0 or amount > payment.refundable_amount:
            raise ValidationFailed.for_field(
                "amount",
                f"Between 0.01 and {payment.refundable_amount} {payment.currency}.",
                "out_of_range",
            )
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + amount)
        return Refund.objects.create(payment=payment, amount=amount, reason=reason, actor=actor)


def _release(refund: Refund, failure: str) -> None:
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=refund.payment_id).update(
            refunded_amount=F("refunded_amount") - refund.amount
        )
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.FAILED, failure_reason=failure[:255]
        )


def payment_refund(
    *, payment_id: int, amount: Decimal | None, reason: str = "", actor: User | None
) -> Refund:
    """Refund all (``amount`` None) or part of a payment. A full refund of a paid order
    makes it ``refunded``. Raises ``NotFound``, ``Conflict`` (not refundable),
    ``ValidationFailed`` (``amount``), ``ProviderUnavailable``, ``ProviderRefused``."""
    refund = _claim(payment_id, amount, reason, actor)
    payment = refund.payment
    try:
        result = get_provider(payment.provider).refund(
            reference=payment.reference,
            provider_payment_id=payment.provider_payment_id,
            amount_minor=to_minor(refund.amount, payment.currency),
            currency=payment.currency,
        )
    except TransientProviderError as error:
        _release(refund, str(error))
        raise ProviderUnavailable("The provider did not answer; nothing was refunded.") from error
    except PermanentProviderError as error:
        _release(refund, str(error))
        raise ProviderRefused(str(error)) from error
    if result.state == "failed":
        _release(refund, "refused by the provider")
        raise ProviderRefused("The provider refused the refund.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        full = payment.refunded_amount >= payment.amount
        payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
        if full:
            payment.needs_refund = False
        payment.save(update_fields=["status", "needs_refund", "updated_at"])
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.SUCCEEDED, provider_refund_id=result.provider_refund_id
        )
        if full and payment.order.status == OrderStatus.PAID:
            order_mark_refunded(order_id=payment.order_id)
        publish(PaymentRefunded(payment_id=payment.pk, refund_id=refund.pk, full=full))
    refund.refresh_from_db()
    logger.info("payment.refunded", payment_id=payment.pk, refund_id=refund.pk, full=full)
    return refund
