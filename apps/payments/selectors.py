"""Reads on payments."""

from __future__ import annotations

from typing import Any

from apps.common.errors import NotFound
from apps.payments.models import Payment


def payment_data(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "reference": payment.reference,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "authorization_url": payment.authorization_url or None,
        "client_secret": payment.client_secret or None,
        "provider_payment_id": payment.provider_payment_id or None,
        "refunded_amount": payment.refunded_amount,
        "needs_refund": payment.needs_refund,
        "created_at": payment.created_at,
    }


def payment_get_for_customer(*, customer_id: int, order_id: int, payment_id: int) -> Payment:
    """A payment of one of the customer's orders; anything else is ``NotFound``."""
    payment = (
        Payment.objects.select_related("order")
        .filter(pk=payment_id, order_id=order_id, order__customer_id=customer_id)
        .first()
    )
    if payment is None:
        raise NotFound("Payment not found.", code="payment_not_found")
    return payment
