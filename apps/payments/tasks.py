"""Payment background work on the ``critical`` queue, and the payment emails."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from apps.common.background import PermanentTaskError, background_task
from apps.common.emails import send_templated_email
from apps.orders.models import Order
from apps.orders.selectors import order_data
from apps.payments.models import Payment, PaymentStatus, Refund
from apps.payments.providers.base import PermanentProviderError
from apps.payments.services import payment_confirm

logger = structlog.get_logger(__name__)


class PaymentStillPending(Exception):
    """The provider has not settled yet: worth asking again later."""


@background_task(queue="critical")
def process_order_payment(*, payment_id: int) -> str:
    """Verify a payment with its provider and mark the order paid, once. Provider
    timeouts and 5xx are retried (60/120/240 s); a refusal is permanent. Running it again
    for a settled payment answers "already paid" and changes nothing."""
    try:
        outcome = payment_confirm(payment_id=payment_id)
    except PermanentProviderError as error:
        raise PermanentTaskError(f"provider refused verification: {error}") from error
    if outcome == "pending":
        raise PaymentStillPending(f"payment {payment_id} is still pending at the provider")
    return outcome


@background_task(queue="critical", retries=0)
def reconcile_pending_payments(*, scheduled_tick: int | None = None) -> int:
    """Ask about payments still pending after ``PAYMENT_RECONCILE_AFTER_MINUTES`` (a
    webhook may have been lost). Each is confirmed in its own task."""
    cutoff = timezone.now() - timedelta(minutes=int(settings.PAYMENT_RECONCILE_AFTER_MINUTES))
    horizon = timezone.now() - timedelta(days=2)
    stale = list(
        Payment.objects.filter(
            status=PaymentStatus.PENDING, created_at__lte=cutoff, created_at__gte=horizon
        )
        .exclude(provider_payment_id="")
        .values_list("pk", flat=True)[:500]
    )
    for payment_id in stale:
        process_order_payment.enqueue(payment_id=payment_id)
    if stale:
        logger.info("payments.reconciling", count=len(stale))
    return len(stale)


@background_task(queue="emails")
def send_payment_receipt(*, order_id: int) -> str:
    """The customer's receipt for a paid order."""
    order = Order.objects.select_related("customer").prefetch_related("lines").get(pk=order_id)
    payment = order.payments.filter(status=PaymentStatus.SUCCEEDED).order_by("-id").first()
    send_templated_email(
        to=order.customer.email,
        template="payments/receipt",
        context={
            "full_name": order.customer.full_name,
            "order": order_data(order),
            "provider": payment.get_provider_display() if payment else "",
            "reference": payment.reference if payment else "",
            "paid_at": order.paid_at,
        },
    )
    return "sent"


@background_task(queue="emails")
def send_vendor_order_notice(*, order_id: int, store_id: int) -> str:
    """Tell a vendor that a paid order has lines of theirs to ship."""
    order = Order.objects.get(pk=order_id)
    lines = list(order.lines.filter(store_id=store_id).select_related("store__owner"))
    if not lines:
        return "no lines"
    store = lines[0].store
    send_templated_email(
        to=store.owner.email,
        template="payments/vendor_order",
        context={
            "full_name": store.owner.full_name,
            "store": store.name,
            "order_number": order.order_number,
            "currency": order.currency,
            "lines": lines,
            "delivery_address": order.delivery_address,
        },
    )
    return "sent"


@background_task(queue="emails")
def send_refund_notice(*, refund_id: int) -> str:
    """Tell the customer money is on its way back."""
    refund = Refund.objects.select_related("payment__order__customer").get(pk=refund_id)
    order = refund.payment.order
    send_templated_email(
        to=order.customer.email,
        template="payments/refund",
        context={
            "full_name": order.customer.full_name,
            "order_number": order.order_number,
            "amount": refund.amount,
            "currency": refund.payment.currency,
            "full": refund.payment.refunded_amount >= refund.payment.amount,
        },
    )
    return "sent"
