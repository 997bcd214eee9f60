"""Reads on orders: a customer's own orders, a vendor's order lines."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet

from apps.common.errors import NotFound, ValidationFailed
from apps.common.prepared import PreparedValues
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.payments.models import Payment
from apps.shipping.models import Shipment
from apps.vendors.models import Store

DEFAULT_PAGE_SIZE = 20
MAX_ID = 2**63
MAX_PAGE_SIZE = 100


def _line_data(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.pk,
        "variant_id": line.variant_id,
        "product_name": line.product_name,
        "sku": line.sku,
        "size": line.size,
        "colour": line.colour,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "line_total": line.line_total,
        "store_id": line.store_id,
        "fulfilled": line.fulfilled_at is not None,
    }


def _payments_data(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "id": payment.pk,
            "provider": payment.provider,
            "reference": payment.reference,
            "amount": payment.amount,
            "currency": payment.currency,
            "status": payment.status,
            "refunded_amount": payment.refunded_amount,
            "needs_refund": payment.needs_refund,
            "created_at": payment.created_at,
        }
        for payment in order.payments.all()
    ]


def _needs_refund(order: Order) -> bool:
    """Money arrived that the order cannot keep (it was cancelled or already paid) and
    has not been given back yet: staff must refund it (docs/payments.md)."""
    annotated = getattr(order, "has_refund_due", None)
    if annotated is not None:
        return bool(annotated)
    return order.payments.filter(needs_refund=True).exists()


def order_data(order: Order, *, with_payments: bool = False) -> dict[str, Any]:
    """The customer-facing shape of an order (lines must be prefetched)."""
    data = {
        "id": order.pk,
        "order_number": order.order_number,
        "status": order.status,
        "total_amount": order.total_amount,
        "shipping_amount": order.shipping_amount,
        "currency": order.currency,
        "delivery_address": order.delivery_address,
        "shipping_address": order.shipping_address or None,
        "customer_notes": order.customer_notes,
        "created_at": order.created_at,
        "reserved_until": order.reserved_until
        if order.status == OrderStatus.PENDING_PAYMENT
        else None,
        "paid_at": order.paid_at,
        "cancelled_at": order.cancelled_at,
        "items": [_line_data(line) for line in order.lines.all()],
    }
    if with_payments:
        payments = _payments_data(order)
        data["payments"] = payments
        data["needs_refund"] = any(payment["needs_refund"] for payment in payments)
    else:
        data["needs_refund"] = _needs_refund(order)
    return data


def _with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))


_ORDER_FIELDS = (
    "id",
    "order_number",
    "status",
    "total_amount",
    "shipping_amount",
    "currency",
    "delivery_address",
    "shipping_address",
    "customer_notes",
    "created_at",
    "reserved_until",
    "paid_at",
    "cancelled_at",
)
_LINE_FIELDS = (
    "id",
    "variant_id",
    "product_name",
    "sku",
    "size",
    "colour",
    "unit_price",
    "quantity",
    "line_total",
    "store_id",
    "fulfilled_at",
)
_PAYMENT_FIELDS = (
    "id",
    "provider",
    "reference",
    "amount",
    "currency",
    "status",
    "refunded_amount",
    "needs_refund",
    "created_at",
)

_SHIPMENT_FIELDS = (
    "id",
    "store_id",
    "method_name",
    "shipping_amount",
    "min_days",
    "max_days",
    "status",
    "carrier",
    "tracking_number",
    "tracking_url",
    "packed_at",
    "shipped_at",
    "delivered_at",
    "returned_at",
    "is_exchange",
)

# The order detail's four reads, compiled once (apps.common.prepared): the customer's
# order by id, then its lines, its payments and its shipments.
_customer_order_row = PreparedValues(
    lambda customer_id, order_id: (
        Order.objects.filter(pk=order_id, customer_id=customer_id)
        .order_by()
        .values(*_ORDER_FIELDS)[:1]
    )
)
_order_line_rows = PreparedValues(
    lambda order_id: (
        OrderLine.objects.filter(order_id=order_id).order_by("id").values(*_LINE_FIELDS)
    )
)
_order_payment_rows = PreparedValues(
    lambda order_id: (
        Payment.objects.filter(order_id=order_id)
        .order_by("-created_at", "-id")
        .values(*_PAYMENT_FIELDS)
    )
)


_order_shipment_rows = PreparedValues(
    lambda order_id: (
        Shipment.objects.filter(order_id=order_id)
        .order_by("id")
        .values(*_SHIPMENT_FIELDS, store_name=F("store__name"))
    )
)


def order_detail_from_rows(
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    payments: list[dict[str, Any]],
    shipments: list[dict[str, Any]],
) -> dict[str, Any]:
    """The customer-facing order with lines, payments and shipments, from ``values()``
    rows."""
    data = dict(order)
    if data["status"] != OrderStatus.PENDING_PAYMENT:
        data["reserved_until"] = None
    data["shipping_address"] = data["shipping_address"] or None
    items = []
    line_ids: dict[int, list[int]] = {}
    for line in lines:
        item = dict(line)
        item["fulfilled"] = item.pop("fulfilled_at") is not None
        items.append(item)
        line_ids.setdefault(item["store_id"], []).append(item["id"])
    data["items"] = items
    data["payments"] = payments
    data["needs_refund"] = any(payment["needs_refund"] for payment in payments)
    # An exchange parcel carries replacements, not the order's lines.
    data["shipments"] = [
        shipment
        | {"line_ids": [] if shipment["is_exchange"] else line_ids.get(shipment["store_id"], [])}
        for shipment in shipments
    ]
    return data


def order_get_for_customer(*, customer_id: int, order_id: int) -> dict[str, Any]:
    """One of the customer's orders with lines, payments and shipments; any other order
    is ``NotFound`` (never a hint that it exists). Four compiled queries, no model
    instances."""
    if not 0 < order_id < MAX_ID:
        raise NotFound("Order not found.", code="order_not_found")
    rows = _customer_order_row.rows(customer_id, order_id)
    if not rows:
        raise NotFound("Order not found.", code="order_not_found")
    return order_detail_from_rows(
        rows[0],
        _order_line_rows.rows(order_id),
        _order_payment_rows.rows(order_id),
        _order_shipment_rows.rows(order_id),
    )


def order_list_for_customer(
    *, customer_id: int, status: str | None = None, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    """The customer's orders, newest first, one page: ``{items, count, next_offset}``."""
    if status is not None and status not in OrderStatus.values:
        raise ValidationFailed.for_field(
            "status", f"One of: {', '.join(OrderStatus.values)}.", "invalid_choice"
        )
    limit = min(max(limit, 1), MAX_PAGE_SIZE)
    orders = Order.objects.filter(customer_id=customer_id)
    if status:
        orders = orders.filter(status=status)
    count = orders.count()
    refund_due = Payment.objects.filter(order_id=OuterRef("pk"), needs_refund=True)
    page = list(
        _with_lines(
            orders.annotate(has_refund_due=Exists(refund_due)).order_by("-created_at", "-id")
        )[offset : offset + limit]
    )
    next_offset = offset + limit if offset + limit < count else None
    return {
        "items": [order_data(order) for order in page],
        "count": count,
        "next_offset": next_offset,
    }


def order_lines_for_store(
    *,
    store: Store | None,
    status: str | None = None,
    fulfilled: bool | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[OrderLine]:
    """Order lines of ``store``'s products (``None``: staff, every store), newest first,
    filtered by the order's status, fulfilment and the order's date (inclusive)."""
    if status is not None and status not in OrderStatus.values:
        raise ValidationFailed.for_field(
            "status", f"One of: {', '.join(OrderStatus.values)}.", "invalid_choice"
        )
    if created_from and created_to and created_from > created_to:
        raise ValidationFailed.for_field(
            "created_to", "Must not be before created_from.", "invalid_range"
        )
    lines = OrderLine.objects.select_related("order").order_by("-order__created_at", "-id")
    if store is not None:
        lines = lines.filter(store=store)
    if status:
        lines = lines.filter(order__status=status)
    if fulfilled is not None:
        lines = lines.filter(fulfilled_at__isnull=not fulfilled)
    if created_from:
        lines = lines.filter(order__created_at__date__gte=created_from)
    if created_to:
        lines = lines.filter(order__created_at__date__lte=created_to)
    return lines
