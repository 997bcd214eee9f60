"""Order background work: expiring unpaid orders, the confirmation email."""

from __future__ import annotations

import structlog
from django.utils import timezone

from apps.common.background import background_task
from apps.common.emails import send_templated_email
from apps.orders.models import Order, OrderStatus
from apps.orders.selectors import order_data
from apps.orders.services import order_expire

logger = structlog.get_logger(__name__)

EXPIRY_BATCH = 500


@background_task(queue="default", retries=1, backoff=(30,))
def expire_unpaid_orders(*, scheduled_tick: int | None = None) -> int:
    """Cancel unpaid orders past their hold and release their stock. Each order is
    expired under its row lock, so overlapping runs expire it once."""
    due = list(
        Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, reserved_until__lte=timezone.now())
        .order_by("reserved_until")
        .values_list("pk", flat=True)[:EXPIRY_BATCH]
    )
    expired = sum(order_expire(order_id=order_id) for order_id in due)
    if expired:
        logger.info("orders.expired", count=expired)
    return expired


@background_task(queue="emails")
def send_order_confirmation(*, order_id: int) -> str:
    """Email the customer what they ordered and what to pay."""
    order = Order.objects.select_related("customer").prefetch_related("lines").get(pk=order_id)
    send_templated_email(
        to=order.customer.email,
        template="orders/confirmation",
        context={"full_name": order.customer.full_name, "order": order_data(order)},
    )
    return "sent"
