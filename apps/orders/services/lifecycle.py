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
from apps.orders.events import (
    OrderCancelled,
    OrderDelivered,
    OrderFulfilled,
    OrderPaid,
    OrderRefunded,
)
from apps.orders.models import TRANSITIONS, Order, OrderLine, OrderStatus
from apps.shipping.models import DeliveryConfirmation, Shipment, ShipmentStatus
from apps.shipping.transitions import shipment_move
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

# A full refund ends a paid order, shipped or not.
REFUNDABLE_ORDER_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PARTLY_SHIPPED,
        OrderStatus.FULFILLED,
        OrderStatus.DELIVERED,
    }
)
# The statuses that follow the order's shipments.
SHIPPING_STATUSES = REFUNDABLE_ORDER_STATUSES
_SENT = frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED})
_ENDED = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED})


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
    if order.status in SHIPPING_STATUSES or order.status == OrderStatus.REFUNDED:
        return order, False
    now = timezone.now()
    _move(order, OrderStatus.PAID, now, paid_at=now)
    stock_commit(items=_items(order), order_id=order.pk)
    publish(OrderPaid(order_id=order.pk))
    return order, True


def _shipping_status(shipments: list[tuple[str, datetime | None]]) -> OrderStatus:
    statuses = {status for status, _ in shipments}
    if statuses <= _ENDED and ShipmentStatus.DELIVERED in statuses:
        return OrderStatus.DELIVERED
    if statuses <= _SENT:
        return OrderStatus.FULFILLED
    if statuses & _SENT:
        return OrderStatus.PARTLY_SHIPPED
    return OrderStatus.PAID


def order_sync_with_shipments(order: Order, *, now: datetime) -> None:
    """Bring a paid order's status in line with its shipments (``order`` locked, in the
    caller's transaction): paid → partly shipped → shipped (``fulfilled``) → delivered
    once every parcel not returned to its sender has arrived. Refunded and cancelled
    orders keep their status."""
    if order.status not in SHIPPING_STATUSES:
        return
    shipments: list[tuple[str, datetime | None]] = list(
        order.shipments.filter(is_exchange=False).values_list("status", "delivered_at")
    )
    if not shipments:  # an order without shipments: its lines say what was sent
        shipments = [
            (ShipmentStatus.SHIPPED if fulfilled_at else ShipmentStatus.AWAITING, None)
            for fulfilled_at in order.lines.values_list("fulfilled_at", flat=True)
        ]
    status = _shipping_status(shipments)
    if status == order.status:
        return
    fields: dict[str, object] = {}
    if status in {OrderStatus.FULFILLED, OrderStatus.DELIVERED} and order.fulfilled_at is None:
        fields["fulfilled_at"] = now
    delivered_at = max((at for _, at in shipments if at is not None), default=None)
    fields["delivered_at"] = delivered_at if status == OrderStatus.DELIVERED else None
    previous = order.status
    order.status = status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated_at", *fields])
    logger.info("order.status_changed", order_id=order.pk, status=str(status))
    if status == OrderStatus.FULFILLED and previous != OrderStatus.DELIVERED:
        publish(OrderFulfilled(order_id=order.pk))
    if status == OrderStatus.DELIVERED:
        publish(OrderDelivered(order_id=order.pk))


@transaction.atomic
def order_mark_delivered(*, order_id: int, actor: User | None = None) -> Order:
    """Staff record that every parcel of a shipped order arrived. Raises ``NotFound``,
    ``Conflict`` (the order is not shipped in full)."""
    order = _locked(order_id)
    if order.status != OrderStatus.FULFILLED:
        raise Conflict(
            f"An order that is {order.get_status_display().lower()} cannot become delivered.",
            code="illegal_transition",
            details={"order_status": order.status, "requested": str(OrderStatus.DELIVERED)},
        )
    now = timezone.now()
    for shipment in order.shipments.select_for_update().filter(
        status=ShipmentStatus.SHIPPED, is_exchange=False
    ):
        shipment_move(
            shipment,
            ShipmentStatus.DELIVERED,
            now=now,
            source="staff",
            actor=actor,
            delivery_confirmed_by=DeliveryConfirmation.STAFF,
        )
    order_sync_with_shipments(order, now=now)
    return order


@transaction.atomic
def order_line_fulfil(*, line_id: int, store: Store | None) -> OrderLine:
    """A vendor marks one of their lines sent; once every line of their part of the order
    is, their shipment is shipped (without tracking: ``shipment_ship`` adds it) and the
    order's status follows. ``store`` None is staff (any line). Raises ``NotFound`` (not
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
    if order.status not in {OrderStatus.PAID, OrderStatus.PARTLY_SHIPPED}:
        raise Conflict(
            "Only lines of paid orders can be fulfilled.",
            code="order_not_paid",
            details={"order_status": order.status},
        )
    now = timezone.now()
    line.fulfilled_at = now
    line.save(update_fields=["fulfilled_at"])
    store_lines = order.lines.filter(store_id=line.store_id)
    if not store_lines.filter(fulfilled_at__isnull=True).exists():
        shipment = (
            Shipment.objects.select_for_update()
            .filter(order=order, store_id=line.store_id, is_exchange=False)
            .exclude(status__in=_SENT)
            .first()
        )
        if shipment is not None:
            shipment_move(shipment, ShipmentStatus.SHIPPED, now=now, source="vendor")
    order_sync_with_shipments(order, now=now)
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
