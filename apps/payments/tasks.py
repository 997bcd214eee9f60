"""Payment background work on the ``critical`` queue, and the payment emails."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from apps.common.background import PermanentTaskError, background_task
from apps.common.emails import send_templated_email
from apps.orders.models import Order
from apps.orders.selectors import order_data
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payments.providers.base import PermanentProviderError
from apps.payments.services import payment_confirm, refund_settle
from apps.payments.services.refunds import KEY_WINDOW

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
    webhook may have been lost), and about refunds still pending whose provider call
    had no definite answer (once no call is out for them). Each is settled in its own
    task; returns how many were enqueued."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=int(settings.PAYMENT_RECONCILE_AFTER_MINUTES))
    horizon = now - timedelta(days=2)
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
    return len(stale) + _reconcile_pending_refunds(now)


def _reconcile_pending_refunds(now: datetime) -> int:
    pending = Refund.objects.filter(status=RefundStatus.PENDING)
    due = list(
        pending.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            created_at__gte=now - KEY_WINDOW,
        )
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    for refund_id in due:
        settle_refund.enqueue(refund_id=refund_id)
    if due:
        logger.info("refunds.reconciling", count=len(due))
    # Past the key window a repeat could be a second refund: people decide.
    overdue = list(
        pending.filter(created_at__lt=now - KEY_WINDOW).values_list("pk", flat=True)[:50]
    )
    if overdue:
        logger.error("refunds.need_review", alert=True, refund_ids=overdue)
    return len(due)


@background_task(queue="critical")
def settle_refund(*, refund_id: int) -> str:
    """Ask the provider how a pending refund stands and settle it: accepted →
    succeeded (``PaymentRefunded`` published), failed → failed and its amount released,
    still unknown → left pending for the next round. Running it for a settled refund, or
    while another call about it is out, changes nothing."""
    return refund_settle(refund_id=refund_id)


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
    # Not refunded_amount: it also holds refunds still pending with the provider.
    settled = refund.payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    send_templated_email(
        to=order.customer.email,
        template="payments/refund",
        context={
            "full_name": order.customer.full_name,
            "order_number": order.order_number,
            "amount": refund.amount,
            "currency": refund.payment.currency,
            "full": settled >= refund.payment.amount,
        },
    )
    return "sent"
