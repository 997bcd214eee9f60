"""Order events (ids and values only), published after the transaction commits."""

from __future__ import annotations

from apps.common.events import Event


class OrderCreated(Event):
    name = "orders.created"
    order_id: int
    customer_id: int


class OrderCancelled(Event):
    name = "orders.cancelled"
    order_id: int
    reason: str


class OrderPaid(Event):
    name = "orders.paid"
    order_id: int


class OrderFulfilled(Event):
    name = "orders.fulfilled"
    order_id: int


class OrderRefunded(Event):
    name = "orders.refunded"
    order_id: int


class OrderDelivered(Event):
    """Every shipment of the order that was not returned to its sender has arrived."""

    name = "orders.delivered"
    order_id: int
