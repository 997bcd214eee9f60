"""Order status changes. Each locks the order row, checks the lifecycle and changes
status once: a second, racing or repeated attempt finds the new status and is refused
(409) or, where the caller asks for it, told that nothing was left to do."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db import transaction
from django.utils import timezone

from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound
from apps.common.events import publish
from apps.inventory.services import stock_commit, stock_release
from apps.orders.events import OrderCancelled, OrderFulfilled, OrderPaid, OrderRefunded
from apps.orders.models import TRANSITIONS, Order, OrderLine, OrderStatus
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

# A full refund ends a paid order, shipped or not.
REFUNDABLE_ORDER_STATUSES = frozenset(
    {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED}
)


def _locked(order_id: int, *, customer_id: int | None = None) -> Order:
    orders = Order.objects.select_for_update().filter(pk=order_id)
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    order = orders.first()
    if order is None:
        raise NotFound("Order not found.", code="order_not_found")
    return order


def _move(order: Order, to: OrderStatus, now: datetime, **fields: object) -> None:
    if to not in TRANSITIONS[order.status]:
        raise Conflict(
            f"An order that is {order.get_status_display().lower()} cannot become "
            f"{to.label.lower()}.",
            code="illegal_transition",
            details={"order_status": order.status, "requested": str(to)},
        )
    order.status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated_at", *fields])
    logger.info("order.status_changed", order_id=order.pk, status=str(to))


def _items(order: Order) -> list[tuple[int, int]]:
    return list(order.lines.values_list("variant_id", "quantity"))


@transaction.atomic
def order_cancel(
    *, order_id: int, reason: str, customer_id: int | None = None, actor: User | None = None
) -> Order:
    """Cancel an unpaid order and release its stock. With ``customer_id`` only that
    customer's order is found (others → 404). Raises ``NotFound``, ``Conflict``."""
    order = _locked(order_id, customer_id=customer_id)
    now = timezone.now()
    _move(order, OrderStatus.CANCELLED, now, cancelled_at=now, cancel_reason=reason)
    stock_release(items=_items(order), order_id=order.pk, actor=actor)
    publish(OrderCancelled(order_id=order.pk, reason=reason))
    return order


@transaction.atomic
def order_expire(*, order_id: int) -> bool:
    """Cancel an unpaid order whose hold ran out; False if it was paid or cancelled
    meanwhile or is not due yet (so running twice, or on two workers, expires once)."""
    order = _locked(order_id)
    if order.status != OrderStatus.PENDING_PAYMENT or order.reserved_until > timezone.now():
        return False
    order_cancel(order_id=order.pk, reason="expired")
    return True


@transaction.atomic
def order_mark_paid(*, order_id: int) -> tuple[Order, bool]:
    """Record that an order was paid: reserved stock becomes sold, ``OrderPaid`` is
    published. Returns ``(order, changed)``; an already paid (or later) order is left
    alone with ``changed`` False. Raises ``Conflict`` for a cancelled order."""
    order = _locked(order_id)
    if order.status in {
        OrderStatus.PAID,
        OrderStatus.FULFILLED,
        OrderStatus.DELIVERED,
        OrderStatus.REFUNDED,
    }:
        return order, False
    now = timezone.now()
    _move(order, OrderStatus.PAID, now, paid_at=now)
    stock_commit(items=_items(order), order_id=order.pk)
    publish(OrderPaid(order_id=order.pk))
    return order, True


@transaction.atomic
def order_mark_delivered(*, order_id: int) -> Order:
    """Staff record delivery of a fulfilled order. Raises ``NotFound``, ``Conflict``."""
    order = _locked(order_id)
    now = timezone.now()
    _move(order, OrderStatus.DELIVERED, now, delivered_at=now)
    return order


@transaction.atomic
def order_line_fulfil(*, line_id: int, store: Store | None) -> OrderLine:
    """A vendor marks one of their lines shipped; when every line of the order is, the
    order becomes fulfilled. ``store`` None is staff (any line). Raises ``NotFound`` (not
    this vendor's line) and ``Conflict`` (order not paid, line already fulfilled)."""
    lines = OrderLine.objects.filter(pk=line_id)
    if store is not None:
        lines = lines.filter(store=store)
    line = lines.first()
    if line is None:
        raise NotFound("Order line not found.", code="order_line_not_found")
    order = _locked(line.order_id)
    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    # The line's own state first: once its last line ships the order is no longer
    # "paid", and a repeated request must hear that the line is done, not that the
    # order was never paid.
    if line.fulfilled_at is not None:
        raise Conflict(
            "This line is already fulfilled.",
            code="line_already_fulfilled",
            details={"fulfilled_at": line.fulfilled_at.isoformat()},
        )
    if order.status != OrderStatus.PAID:
        raise Conflict(
            "Only lines of paid orders can be fulfilled.",
            code="order_not_paid",
            details={"order_status": order.status},
        )
    now = timezone.now()
    line.fulfilled_at = now
    line.save(update_fields=["fulfilled_at"])
    if not order.lines.filter(fulfilled_at__isnull=True).exists():
        _move(order, OrderStatus.FULFILLED, now, fulfilled_at=now)
        publish(OrderFulfilled(order_id=order.pk))
    return line


@transaction.atomic
def order_mark_refunded(*, order_id: int) -> Order:
    """A paid (fulfilled, delivered) order's payment was refunded in full. Sold stock
    stays sold (goods come back, if at all, through a stock adjustment). Raises
    ``NotFound``, ``Conflict``."""
    order = _locked(order_id)
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        raise Conflict(
            f"An order that is {order.get_status_display().lower()} cannot become refunded.",
            code="illegal_transition",
            details={"order_status": order.status, "requested": str(OrderStatus.REFUNDED)},
        )
    # Money given back in full ends the order whatever happened to the goods: a shipped
    # or delivered order that was refunded is "refunded", not "fulfilled".
    now = timezone.now()
    order.status = OrderStatus.REFUNDED
    order.refunded_at = now
    order.save(update_fields=["status", "refunded_at", "updated_at"])
    logger.info("order.status_changed", order_id=order.pk, status=str(OrderStatus.REFUNDED))
    publish(OrderRefunded(order_id=order.pk))
    return order
