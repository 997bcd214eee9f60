"""How a paid order's status follows its shipments, and the lifecycle services around it
(``apps.orders.services.lifecycle``).

Proven here, with exact values: the order is paid, partly shipped, fulfilled or delivered
as its (non-exchange) parcels are, returned parcels count as sent but never as arrived,
an order without shipments follows its lines; ``fulfilled_at`` is set once and
``delivered_at`` is the last arrival, cleared when the order is no longer delivered;
``OrderFulfilled`` and ``OrderDelivered`` are published exactly when the order gets
there; an unpaid order expires at the very end of its hold; refunds, line fulfilment and
staff delivery accept and refuse exactly the statuses and actors they should.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from time_machine import TimeMachineFixture

from apps.common.errors import Conflict, NotFound
from apps.common.events import Event, subscribe
from apps.orders.events import (
    OrderCancelled,
    OrderDelivered,
    OrderFulfilled,
    OrderPaid,
    OrderRefunded,
)
from apps.orders.models import Order, OrderStatus
from apps.orders.services import (
    order_cancel,
    order_expire,
    order_line_fulfil,
    order_mark_delivered,
    order_mark_paid,
    order_mark_refunded,
    order_sync_with_shipments,
)
from apps.orders.tests.factories import make_variant, place_order
from apps.shipping.models import DeliveryConfirmation, Shipment, ShipmentStatus
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
T3 = T0 + timedelta(days=3)
HOLD = timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))

AWAITING = ShipmentStatus.AWAITING
PACKED = ShipmentStatus.PACKED
SHIPPED = ShipmentStatus.SHIPPED
DELIVERED = ShipmentStatus.DELIVERED
RETURNED = ShipmentStatus.RETURNED


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def published(clean_event_handlers: None) -> list[Event]:
    """Every order lifecycle event delivered during the test, in order."""
    seen: list[Event] = []

    def record(event: Event) -> None:
        seen.append(event)

    for event_type in (OrderPaid, OrderCancelled, OrderFulfilled, OrderDelivered, OrderRefunded):
        subscribe(event_type)(record)
    return seen


def _order(stores: int = 2, *, paid: bool = True) -> Order:
    """An order with one line from each of ``stores`` stores, paid unless told."""
    order = place_order(
        items=[(make_variant(store=StoreFactory.create()), 1) for _ in range(stores)]
    )
    if paid:
        order_mark_paid(order_id=order.pk)
    order.refresh_from_db()
    return order


def _shipments(order: Order) -> list[Shipment]:
    return list(Shipment.objects.filter(order=order, is_exchange=False).order_by("store_id"))


def _set(shipment: Shipment, status: str, *, delivered_at: datetime = T1) -> None:
    """Write a parcel's status directly, with the times its status requires."""
    shipped = status in {SHIPPED, DELIVERED, RETURNED}
    Shipment.objects.filter(pk=shipment.pk).update(
        status=status,
        shipped_at=T0 if shipped else None,
        delivered_at=delivered_at if status == DELIVERED else None,
        returned_at=T1 if status == RETURNED else None,
    )


def _sync(order: Order, now: datetime = T2) -> Order:
    order_sync_with_shipments(order, now=now)
    order.refresh_from_db()
    return order


def _order_in(status: str) -> Order:
    order = _order(paid=status not in {OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED})
    if status == OrderStatus.CANCELLED:
        order_cancel(order_id=order.pk, reason="customer")
    elif status == OrderStatus.PARTLY_SHIPPED:
        first = order.lines.order_by("id").first()
        assert first is not None
        order_line_fulfil(line_id=first.pk, store=None)
    elif status in {OrderStatus.FULFILLED, OrderStatus.DELIVERED}:
        for line in order.lines.all():
            order_line_fulfil(line_id=line.pk, store=None)
        if status == OrderStatus.DELIVERED:
            order_mark_delivered(order_id=order.pk)
    elif status == OrderStatus.REFUNDED:
        order_mark_refunded(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == status
    return order


# --- the order's status from its shipments ----------------------------------------------


@pytest.mark.parametrize(
    ("parcels", "expected"),
    [
        ((AWAITING, PACKED), OrderStatus.PAID),
        ((SHIPPED, AWAITING), OrderStatus.PARTLY_SHIPPED),
        ((DELIVERED, PACKED), OrderStatus.PARTLY_SHIPPED),
        ((SHIPPED, SHIPPED), OrderStatus.FULFILLED),
        ((DELIVERED, SHIPPED), OrderStatus.FULFILLED),
        ((RETURNED, RETURNED), OrderStatus.FULFILLED),
        ((DELIVERED, RETURNED), OrderStatus.DELIVERED),
        ((SHIPPED, DELIVERED, RETURNED), OrderStatus.FULFILLED),
        ((DELIVERED, DELIVERED, RETURNED), OrderStatus.DELIVERED),
    ],
)
def test_the_order_status_follows_its_parcels(
    parcels: tuple[str, ...], expected: OrderStatus
) -> None:
    order = _order(len(parcels))
    for shipment, status in zip(_shipments(order), parcels, strict=True):
        _set(shipment, status)

    assert _sync(order).status == expected


def test_an_exchange_parcel_does_not_hold_back_a_delivered_order() -> None:
    order = _order(1)
    (shipment,) = _shipments(order)
    _set(shipment, DELIVERED)
    Shipment.objects.create(
        order=order,
        store_id=shipment.store_id,
        method_name="Exchange",
        shipping_amount=Decimal("0.00"),
        is_exchange=True,
    )

    assert _sync(order).status == OrderStatus.DELIVERED


@pytest.mark.parametrize(
    ("fulfilled_lines", "expected"),
    [
        (0, OrderStatus.PAID),
        (1, OrderStatus.PARTLY_SHIPPED),
        (2, OrderStatus.FULFILLED),
    ],
)
def test_an_order_without_shipments_follows_its_fulfilled_lines(
    fulfilled_lines: int, expected: OrderStatus
) -> None:
    order = _order(2)
    Shipment.objects.filter(order=order).delete()
    for line in order.lines.order_by("id")[:fulfilled_lines]:
        order.lines.filter(pk=line.pk).update(fulfilled_at=T1)

    order = _sync(order)

    assert order.status == expected
    assert order.fulfilled_at == (T2 if expected == OrderStatus.FULFILLED else None)


def test_shipping_everything_fulfils_the_order_and_publishes_it_once(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(2)
    for shipment in _shipments(order):
        _set(shipment, SHIPPED)

    with django_capture_on_commit_callbacks(execute=True):
        order = _sync(order, now=T2)

    assert (order.status, order.fulfilled_at, order.delivered_at) == (
        OrderStatus.FULFILLED,
        T2,
        None,
    )
    assert published == [OrderFulfilled(order_id=order.pk)]


def test_a_partly_shipped_order_is_not_fulfilled_and_publishes_nothing(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(2)
    _set(_shipments(order)[0], SHIPPED)

    with django_capture_on_commit_callbacks(execute=True):
        order = _sync(order)

    assert (order.status, order.fulfilled_at, order.delivered_at) == (
        OrderStatus.PARTLY_SHIPPED,
        None,
        None,
    )
    assert published == []


def test_the_last_arrival_delivers_the_order_keeping_when_it_was_fulfilled(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(2)
    first, second = _shipments(order)
    _set(first, SHIPPED)
    _set(second, SHIPPED)
    order = _sync(order, now=T1)
    _set(first, DELIVERED, delivered_at=T3)
    _set(second, DELIVERED, delivered_at=T2)

    with django_capture_on_commit_callbacks(execute=True):
        order = _sync(order, now=T3 + timedelta(hours=1))

    assert (order.status, order.fulfilled_at, order.delivered_at) == (
        OrderStatus.DELIVERED,
        T1,
        T3,
    )
    assert published == [OrderDelivered(order_id=order.pk)]


def test_arriving_straight_from_paid_sets_both_times_and_publishes_only_delivered(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(2)
    first, second = _shipments(order)
    _set(first, DELIVERED, delivered_at=T1)
    _set(second, DELIVERED, delivered_at=T2)

    with django_capture_on_commit_callbacks(execute=True):
        order = _sync(order, now=T3)

    assert (order.status, order.fulfilled_at, order.delivered_at) == (
        OrderStatus.DELIVERED,
        T3,
        T2,
    )
    assert published == [OrderDelivered(order_id=order.pk)]


def test_a_delivered_order_whose_parcel_is_back_in_transit_is_fulfilled_again_quietly(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order(2)
    first, second = _shipments(order)
    _set(first, DELIVERED, delivered_at=T1)
    _set(second, DELIVERED, delivered_at=T1)
    order = _sync(order, now=T1)
    _set(second, SHIPPED)  # a staff correction: that parcel never arrived

    with django_capture_on_commit_callbacks(execute=True):
        order = _sync(order, now=T2)

    assert (order.status, order.fulfilled_at, order.delivered_at) == (
        OrderStatus.FULFILLED,
        T1,
        None,
    )
    assert published == []


def test_syncing_writes_only_the_status_fields_of_the_order() -> None:
    order = _order(1)
    _set(_shipments(order)[0], SHIPPED)
    Order.objects.filter(pk=order.pk).update(customer_notes="Changed meanwhile")

    _sync(order)

    assert order.status == OrderStatus.FULFILLED
    assert order.customer_notes == "Changed meanwhile"


@pytest.mark.parametrize("status", [OrderStatus.PENDING_PAYMENT, OrderStatus.REFUNDED])
def test_unpaid_and_refunded_orders_keep_their_status(status: str) -> None:
    order = _order_in(status)
    for shipment in _shipments(order):
        _set(shipment, DELIVERED)

    assert _sync(order).status == status


# --- cancelling, expiring ---------------------------------------------------------------


def test_a_customer_cancels_only_their_own_order() -> None:
    order = _order(1, paid=False)
    stranger = UserFactory.create()

    with pytest.raises(NotFound) as refused:
        order_cancel(order_id=order.pk, reason="customer", customer_id=stranger.pk)
    assert refused.value.code == "order_not_found"

    cancelled = order_cancel(order_id=order.pk, reason="customer", customer_id=order.customer_id)
    assert (cancelled.status, cancelled.cancel_reason) == (OrderStatus.CANCELLED, "customer")


def test_an_unpaid_order_expires_exactly_when_its_hold_ends(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    order = _order(1, paid=False)

    time_machine.move_to(T0 + HOLD - timedelta(microseconds=1), tick=False)
    assert order_expire(order_id=order.pk) is False
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT

    time_machine.move_to(T0 + HOLD, tick=False)
    assert order_expire(order_id=order.pk) is True
    order.refresh_from_db()
    assert (order.status, order.cancel_reason, order.cancelled_at) == (
        OrderStatus.CANCELLED,
        "expired",
        T0 + HOLD,
    )
    assert order_expire(order_id=order.pk) is False


# --- refunds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.PAID,
        OrderStatus.PARTLY_SHIPPED,
        OrderStatus.FULFILLED,
        OrderStatus.DELIVERED,
    ],
)
def test_a_paid_order_is_refunded_whatever_happened_to_its_parcels(
    status: str,
    published: list[Event],
    django_capture_on_commit_callbacks: Any,
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    order = _order_in(status)
    time_machine.move_to(T1, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        refunded = order_mark_refunded(order_id=order.pk)

    refunded.refresh_from_db()
    assert (refunded.status, refunded.refunded_at) == (OrderStatus.REFUNDED, T1)
    assert published == [OrderRefunded(order_id=order.pk)]


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, OrderStatus.REFUNDED]
)
def test_an_unpaid_cancelled_or_refunded_order_cannot_be_refunded(
    status: str, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order_in(status)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict) as refused:
        order_mark_refunded(order_id=order.pk)

    assert refused.value.code == "illegal_transition"
    assert refused.value.details == {"order_status": status, "requested": "refunded"}
    order.refresh_from_db()
    assert order.status == status
    assert published == []


def test_refunding_a_missing_order_is_not_found() -> None:
    with pytest.raises(NotFound) as refused:
        order_mark_refunded(order_id=987654)

    assert refused.value.code == "order_not_found"


# --- fulfilling lines, delivering -------------------------------------------------------


def test_staff_fulfil_any_line_and_the_stores_parcel_ships(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    order = _order(2)
    line = order.lines.order_by("id").first()
    assert line is not None

    fulfilled = order_line_fulfil(line_id=line.pk, store=None)

    assert fulfilled.fulfilled_at == T0
    shipment = Shipment.objects.get(order=order, store_id=line.store_id)
    assert (shipment.status, shipment.shipped_at) == (SHIPPED, T0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTLY_SHIPPED


def test_a_vendor_cannot_fulfil_another_stores_line() -> None:
    order = _order(2)
    mine, theirs = order.lines.order_by("id")

    with pytest.raises(NotFound) as refused:
        order_line_fulfil(line_id=theirs.pk, store=mine.store)

    assert refused.value.code == "order_line_not_found"
    theirs.refresh_from_db()
    assert theirs.fulfilled_at is None


def test_a_line_fulfilled_twice_is_refused_with_when_it_was(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    order = _order(1)
    line = order.lines.get()
    order_line_fulfil(line_id=line.pk, store=line.store)

    with pytest.raises(Conflict) as refused:
        order_line_fulfil(line_id=line.pk, store=line.store)

    assert refused.value.code == "line_already_fulfilled"
    assert refused.value.details == {"fulfilled_at": T0.isoformat()}


def test_a_line_of_an_unpaid_order_cannot_be_fulfilled() -> None:
    order = _order(1, paid=False)
    line = order.lines.get()

    with pytest.raises(Conflict) as refused:
        order_line_fulfil(line_id=line.pk, store=None)

    assert refused.value.code == "order_not_paid"
    assert refused.value.details == {"order_status": "pending_payment"}


def test_staff_deliver_every_shipped_parcel_of_a_fulfilled_order(
    time_machine: TimeMachineFixture,
    published: list[Event],
    django_capture_on_commit_callbacks: Any,
) -> None:
    time_machine.move_to(T0, tick=False)
    order = _order_in(OrderStatus.FULFILLED)
    time_machine.move_to(T1, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        delivered = order_mark_delivered(order_id=order.pk)

    assert (delivered.status, delivered.fulfilled_at, delivered.delivered_at) == (
        OrderStatus.DELIVERED,
        T0,
        T1,
    )
    assert [(s.status, s.delivered_at, s.delivery_confirmed_by) for s in _shipments(order)] == [
        (DELIVERED, T1, DeliveryConfirmation.STAFF),
        (DELIVERED, T1, DeliveryConfirmation.STAFF),
    ]
    assert published == [OrderDelivered(order_id=order.pk)]


def test_a_paid_order_cannot_be_marked_delivered() -> None:
    order = _order(1)

    with pytest.raises(Conflict) as refused:
        order_mark_delivered(order_id=order.pk)

    assert refused.value.code == "illegal_transition"
    assert refused.value.details == {"order_status": "paid", "requested": "delivered"}
