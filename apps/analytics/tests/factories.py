"""Sales history for the analytics tests: orders placed through the real service, then
moved to the state a test needs (paid at a given moment, fulfilled per store, refunded)
the way the demo history is written."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.catalog.models import Variant
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.tests.factories import place_order
from apps.payments.models import Payment, PaymentStatus, Provider, Refund, RefundStatus


def sold(
    items: list[tuple[Variant, int]],
    *,
    paid_at: datetime | None,
    status: str = OrderStatus.PAID,
    shipped: dict[int, datetime] | None = None,
    **fields: Any,
) -> Order:
    """An order of ``items`` in ``status``, paid at ``paid_at``; ``shipped`` maps a store
    id to when that store fulfilled its lines."""
    order = place_order(items=items)
    changes: dict[str, Any] = {"status": status, "paid_at": paid_at, **fields}
    if status == OrderStatus.CANCELLED:
        changes.setdefault("cancelled_at", changes["paid_at"] or order.created_at)
        changes["paid_at"] = None
    if status == OrderStatus.REFUNDED:
        changes.setdefault("refunded_at", paid_at)
    Order.objects.filter(pk=order.pk).update(**changes)
    for store_id, moment in (shipped or {}).items():
        OrderLine.objects.filter(order=order, store_id=store_id).update(fulfilled_at=moment)
    order.refresh_from_db()
    return order


def refund(
    order: Order,
    amount: str,
    *,
    status: str = RefundStatus.SUCCEEDED,
    flagged_reason: str = "",
) -> Refund:
    """A payment of the whole order and a refund of ``amount`` of it; ``flagged_reason``
    makes the payment one the order could not take (a second payment of a paid order)."""
    paid = order.total_amount
    payment = Payment.objects.create(
        order=order,
        provider=Provider.PAYSTACK,
        reference=f"T-{uuid.uuid4().hex[:16]}",
        amount=paid,
        currency=order.currency,
        status=PaymentStatus.PARTIALLY_REFUNDED,
        refunded_amount=Decimal(amount),
        needs_refund_reason=flagged_reason,
    )
    return Refund.objects.create(payment=payment, amount=Decimal(amount), status=status)
