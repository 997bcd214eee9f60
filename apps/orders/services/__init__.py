"""Writes on orders: placement, lifecycle, fulfilment."""

from apps.orders.services.lifecycle import (
    REFUNDABLE_ORDER_STATUSES,
    order_cancel,
    order_expire,
    order_line_fulfil,
    order_mark_delivered,
    order_mark_paid,
    order_mark_refunded,
    order_sync_with_shipments,
)
from apps.orders.services.placement import OrderItem, OrderQuote, order_create, order_quote

__all__ = [
    "REFUNDABLE_ORDER_STATUSES",
    "OrderItem",
    "OrderQuote",
    "order_cancel",
    "order_create",
    "order_expire",
    "order_line_fulfil",
    "order_mark_delivered",
    "order_mark_paid",
    "order_mark_refunded",
    "order_quote",
    "order_sync_with_shipments",
]
