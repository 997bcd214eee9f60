"""Reactions to order events."""

from __future__ import annotations

from apps.common.events import subscribe
from apps.orders.events import OrderCreated
from apps.orders.tasks import send_order_confirmation


@subscribe(OrderCreated)
def mail_order_confirmation(event: OrderCreated) -> None:
    send_order_confirmation.enqueue(order_id=event.order_id)
