"""The order lifecycle at the service level.

Proven here: every status change outside ``TRANSITIONS`` is refused and leaves the order,
its lines, its stock and the ledger untouched; paying turns reserved units into sold ones
and publishes ``OrderPaid`` once (paying again changes nothing); cancelling releases
exactly the order's reserved units and publishes ``OrderCancelled`` with the reason;
an unpaid order expires exactly once, and only when its hold has run out; the scheduled
expiry task expires only due orders and reports how many. On PostgreSQL, racing expiries
release stock once, and a cancel racing a payment has exactly one winner whose stock
effect is the only one applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from time_machine import TimeMachineFixture

from apps.catalog.models import Variant
from apps.common.errors import Conflict
from apps.common.events import Event, subscribe
from apps.inventory.models import Stock, StockMovement
from apps.orders.events import OrderCancelled, OrderFulfilled, OrderPaid
from apps.orders.models import TRANSITIONS, Order, OrderLine, OrderStatus
from apps.orders.services import (
    order_cancel,
    order_expire,
    order_line_fulfil,
    order_mark_delivered,
    order_mark_paid,
)
from apps.orders.services.lifecycle import _move
from apps.orders.tasks import expire_unpaid_orders
from apps.orders.tests.factories import make_variant, place_order
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOLD = timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

ILLEGAL = [
    (start, to)
    for start in OrderStatus.values
    for to in OrderStatus.values
    if to not in TRANSITIONS[start]
]
# Statuses a service can be asked to reach. Nothing moves an order back to pending
# payment, and refunds have no service yet.
SERVICE_TARGETS = {
    OrderStatus.PAID,
    OrderStatus.FULFILLED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
}
# Paying is idempotent by design (payment notifications repeat): an order already paid
# or beyond is answered "nothing changed" instead of a conflict.
PAID_OR_BEYOND = [
    OrderStatus.PAID,
    OrderStatus.PARTLY_SHIPPED,
    OrderStatus.FULFILLED,
    OrderStatus.DELIVERED,
    OrderStatus.REFUNDED,
]


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def published(clean_event_handlers: None) -> list[Event]:
    """Every order lifecycle event delivered during the test, in order."""
    seen: list[Event] = []

    def record(event: Event) -> None:
        seen.append(event)

    for event_type in (OrderPaid, OrderCancelled, OrderFulfilled):
        subscribe(event_type)(record)
    return seen


def _stock(variant: Variant) -> tuple[int, int]:
    stock = Stock.objects.get(variant=variant)
    return stock.on_hand, stock.reserved


def _ledger(order: Order, reason: str) -> list[tuple[int, int, int]]:
    return list(
        StockMovement.objects.filter(order_id=order.pk, reason=reason)
        .order_by("variant_id")
        .values_list("variant_id", "on_hand_delta", "reserved_delta")
    )


def _snapshot(order: Order) -> tuple[Any, ...]:
    """Everything a status change could touch: the order row, its lines, its stock, the
    whole ledger."""
    return (
        Order.objects.filter(pk=order.pk).values().get(),
        list(OrderLine.objects.filter(order=order).values_list("id", "fulfilled_at")),
        list(
            Stock.objects.filter(variant__order_lines__order=order)
            .order_by("pk")
            .values_list("pk", "on_hand", "reserved")
        ),
        list(StockMovement.objects.order_by("id").values_list("id", flat=True)),
    )


def _order_in(status: str) -> Order:
    """An order with lines from two stores, brought to ``status`` through the services."""
    order = place_order(items=[(make_variant(stock=10), 2), (make_variant(stock=5), 1)])
    if status == OrderStatus.CANCELLED:
        order_cancel(order_id=order.pk, reason="customer")
    if status in PAID_OR_BEYOND:
        order_mark_paid(order_id=order.pk)
    if status == OrderStatus.PARTLY_SHIPPED:  # one of the two stores sent its parcel
        line = order.lines.order_by("id").first()
        assert line is not None
        order_line_fulfil(line_id=line.pk, store=line.store)
    if status in {OrderStatus.FULFILLED, OrderStatus.DELIVERED}:
        for line in order.lines.all():
            order_line_fulfil(line_id=line.pk, store=line.store)
    if status == OrderStatus.DELIVERED:
        order_mark_delivered(order_id=order.pk)
    if status == OrderStatus.REFUNDED:
        # No refund service exists yet: a refunded order can only be written directly.
        Order.objects.filter(pk=order.pk).update(
            status=OrderStatus.REFUNDED, refunded_at=timezone.now()
        )
    order.refresh_from_db()
    assert order.status == status
    return order


def _ask(order: Order, to: str) -> object:
    """Ask the service that leads to ``to`` to move ``order`` there."""
    if to == OrderStatus.PAID:
        return order_mark_paid(order_id=order.pk)
    if to == OrderStatus.FULFILLED:
        line = order.lines.order_by("id").first()
        assert line is not None
        return order_line_fulfil(line_id=line.pk, store=line.store)
    if to == OrderStatus.DELIVERED:
        return order_mark_delivered(order_id=order.pk)
    return order_cancel(order_id=order.pk, reason="customer")


# --- the transition table ---------------------------------------------------------------


def test_the_table_allows_only_the_forward_lifecycle() -> None:
    allowed = {(start, to) for start, targets in TRANSITIONS.items() for to in targets}

    assert allowed == {
        ("pending_payment", "paid"),
        ("pending_payment", "cancelled"),
        ("paid", "partly_shipped"),
        ("paid", "fulfilled"),
        ("paid", "refunded"),
        ("partly_shipped", "fulfilled"),
        ("partly_shipped", "refunded"),
        ("fulfilled", "delivered"),
    }
    assert len(ILLEGAL) == 41


@pytest.mark.parametrize(("start", "to"), ILLEGAL)
def test_the_lifecycle_gate_refuses_every_illegal_pair(start: str, to: str) -> None:
    # Every lifecycle service moves an order through this one gate; asking it directly
    # also covers the targets no service leads to (pending payment, refunded).
    order = _order_in(start)
    before = _snapshot(order)

    with pytest.raises(Conflict) as refused:
        _move(order, OrderStatus(to), timezone.now())

    assert refused.value.code == "illegal_transition"
    assert refused.value.details == {"order_status": start, "requested": to}
    assert _snapshot(order) == before


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (start, to)
        for start, to in ILLEGAL
        if to in SERVICE_TARGETS and not (to == OrderStatus.PAID and start in PAID_OR_BEYOND)
    ],
)
def test_services_refuse_illegal_transitions_and_change_nothing(
    start: str, to: str, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order_in(start)
    before = _snapshot(order)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict) as refused:
        _ask(order, to)

    # Fulfilment names its precondition rather than the move: a line shipped already, or
    # (for an order whose lines are not shipped) an order that must be paid first.
    expected = "illegal_transition"
    if to == OrderStatus.FULFILLED:
        shipped = start in {OrderStatus.FULFILLED, OrderStatus.DELIVERED}
        expected = "line_already_fulfilled" if shipped else "order_not_paid"
    assert refused.value.code == expected
    assert _snapshot(order) == before
    assert published == []


@pytest.mark.parametrize("start", PAID_OR_BEYOND)
def test_paying_an_order_already_paid_or_beyond_changes_nothing(
    start: str, published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    order = _order_in(start)
    before = _snapshot(order)

    with django_capture_on_commit_callbacks(execute=True):
        same, changed = order_mark_paid(order_id=order.pk)

    assert changed is False and same.status == start
    assert _snapshot(order) == before
    assert published == []


# --- paying -----------------------------------------------------------------------------


def test_paying_turns_reserved_stock_into_sold_and_publishes_once(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    shirt, shoes = make_variant(stock=10), make_variant(stock=4)
    order = place_order(items=[(shirt, 3), (shoes, 1)])
    assert (_stock(shirt), _stock(shoes)) == ((10, 3), (4, 1))

    with django_capture_on_commit_callbacks(execute=True):
        paid, changed = order_mark_paid(order_id=order.pk)

    assert changed is True
    assert paid.status == OrderStatus.PAID and paid.paid_at is not None
    assert (_stock(shirt), _stock(shoes)) == ((7, 0), (3, 0))
    assert _ledger(order, "sold") == [(shirt.pk, -3, -3), (shoes.pk, -1, -1)]
    assert published == [OrderPaid(order_id=order.pk)]


def test_paying_twice_changes_nothing_the_second_time(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    shirt = make_variant(stock=10)
    order = place_order(items=[(shirt, 3)])
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = order_mark_paid(order_id=order.pk)
    before = _snapshot(order)

    with django_capture_on_commit_callbacks(execute=True):
        again, changed = order_mark_paid(order_id=order.pk)

    assert changed is False and again.paid_at == first.paid_at
    assert _snapshot(order) == before
    assert _stock(shirt) == (7, 0)
    assert len(_ledger(order, "sold")) == 1
    assert published == [OrderPaid(order_id=order.pk)]


def test_a_cancelled_order_cannot_be_paid(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    shirt = make_variant(stock=10)
    order = place_order(items=[(shirt, 3)])
    order_cancel(order_id=order.pk, reason="customer")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict) as refused:
        order_mark_paid(order_id=order.pk)

    assert refused.value.code == "illegal_transition"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert _stock(shirt) == (10, 0)
    assert _ledger(order, "sold") == []
    assert published == []


# --- cancelling -------------------------------------------------------------------------


def test_cancelling_releases_exactly_the_orders_reservation(
    published: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    shirt, shoes = make_variant(stock=10), make_variant(stock=4)
    order = place_order(items=[(shirt, 3), (shoes, 2)])
    other = place_order(items=[(shirt, 2)])
    staff = UserFactory.create()
    assert (_stock(shirt), _stock(shoes)) == ((10, 5), (4, 2))

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = order_cancel(order_id=order.pk, reason="out_of_budget", actor=staff)

    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancelled_at is not None
    assert cancelled.cancel_reason == "out_of_budget"
    assert (_stock(shirt), _stock(shoes)) == ((10, 2), (4, 0))
    assert _ledger(order, "released") == [(shirt.pk, 0, -3), (shoes.pk, 0, -2)]
    assert set(
        StockMovement.objects.filter(order_id=order.pk, reason="released").values_list(
            "actor", flat=True
        )
    ) == {staff.pk}
    assert _ledger(other, "released") == []
    assert published == [OrderCancelled(order_id=order.pk, reason="out_of_budget")]


# --- expiry -----------------------------------------------------------------------------


def test_an_order_whose_hold_has_not_run_out_does_not_expire(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    shirt = make_variant(stock=5)
    order = place_order(items=[(shirt, 2)])
    time_machine.shift(HOLD - timedelta(seconds=1))
    before = _snapshot(order)

    assert order_expire(order_id=order.pk) is False

    assert _snapshot(order) == before
    assert _stock(shirt) == (5, 2)


def test_a_due_order_expires_exactly_once(
    time_machine: TimeMachineFixture,
    published: list[Event],
    django_capture_on_commit_callbacks: Any,
) -> None:
    time_machine.move_to(T0, tick=False)
    shirt = make_variant(stock=5)
    order = place_order(items=[(shirt, 2)])
    time_machine.shift(HOLD)

    with django_capture_on_commit_callbacks(execute=True):
        expired = order_expire(order_id=order.pk)

    order.refresh_from_db()
    assert expired is True
    assert order.status == OrderStatus.CANCELLED
    assert (order.cancel_reason, order.cancelled_at) == ("expired", T0 + HOLD)
    assert _stock(shirt) == (5, 0)
    assert _ledger(order, "released") == [(shirt.pk, 0, -2)]
    assert published == [OrderCancelled(order_id=order.pk, reason="expired")]

    before = _snapshot(order)
    time_machine.shift(HOLD)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_expire(order_id=order.pk) is False
    assert _snapshot(order) == before
    assert len(published) == 1


def test_a_paid_order_past_its_hold_does_not_expire(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(T0, tick=False)
    shirt = make_variant(stock=5)
    order = place_order(items=[(shirt, 2)])
    order_mark_paid(order_id=order.pk)
    time_machine.shift(HOLD * 2)
    before = _snapshot(order)

    assert order_expire(order_id=order.pk) is False

    assert _snapshot(order) == before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert _stock(shirt) == (3, 0)


@pytest.mark.django_db(transaction=True)
def test_the_expiry_task_expires_only_due_orders_and_counts_them(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    shirt = make_variant(stock=20)
    due = [place_order(items=[(shirt, 1)]) for _ in range(2)]
    paid = place_order(items=[(shirt, 1)])
    order_mark_paid(order_id=paid.pk)
    time_machine.shift(HOLD / 2)
    fresh = place_order(items=[(shirt, 1)])
    time_machine.shift(HOLD / 2)

    result = expire_unpaid_orders.enqueue(scheduled_tick=0)

    assert result is not None and result.return_value == 2
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        due[0].pk: OrderStatus.CANCELLED,
        due[1].pk: OrderStatus.CANCELLED,
        paid.pk: OrderStatus.PAID,
        fresh.pk: OrderStatus.PENDING_PAYMENT,
    }
    assert _stock(shirt) == (19, 1)

    again = expire_unpaid_orders.enqueue(scheduled_tick=1)
    assert again is not None and again.return_value == 0
    assert StockMovement.objects.filter(reason="released").count() == 2


# --- races (PostgreSQL: SQLite serialises writers) --------------------------------------


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call at once, one thread and database connection each; what each
    returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_expiries_expire_the_order_and_release_its_stock_once(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    shirt = make_variant(stock=5)
    before_order = _stock(shirt)
    order = place_order(items=[(shirt, 3)])
    time_machine.shift(HOLD)

    outcomes = _race([lambda: order_expire(order_id=order.pk)] * 8)

    assert sorted(outcomes, key=repr) == [False] * 7 + [True], outcomes
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert _stock(shirt) == before_order
    assert _ledger(order, "released") == [(shirt.pk, 0, -3)]


def _cancel(order_id: int) -> Callable[[], object]:
    return lambda: order_cancel(order_id=order_id, reason="customer")


def _pay(order_id: int) -> Callable[[], object]:
    return lambda: order_mark_paid(order_id=order_id)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_a_cancel_racing_a_payment_has_one_winner_and_consistent_stock(round_: int) -> None:
    shirt = make_variant(stock=10)
    order = place_order(items=[(shirt, 4)])

    outcomes = _race([_cancel(order.pk), _pay(order.pk)] * 4)

    cancelled = [o for o in outcomes if isinstance(o, Order)]
    paid = [o for o in outcomes if isinstance(o, tuple) and o[1] is True]
    losers = [o for o in outcomes if o not in cancelled and o not in paid]
    assert len(cancelled) + len(paid) == 1, outcomes
    for loser in losers:
        refused = isinstance(loser, Conflict) and loser.code == "illegal_transition"
        assert refused or (isinstance(loser, tuple) and loser[1] is False), loser
    status = Order.objects.get(pk=order.pk).status
    if paid:
        assert status == OrderStatus.PAID
        assert _stock(shirt) == (6, 0)
        assert (_ledger(order, "sold"), _ledger(order, "released")) == ([(shirt.pk, -4, -4)], [])
    else:
        assert status == OrderStatus.CANCELLED
        assert _stock(shirt) == (10, 0)
        assert (_ledger(order, "sold"), _ledger(order, "released")) == ([], [(shirt.pk, 0, -4)])
