"""Returns at the service level: the window and the quantities, exchanges reserving
their replacement, the store's decisions, receipt putting sellable units back through
the ledger, the refund (per line, the exchange difference, shipping by the store's
policy) recorded once and debited from the store, escalation and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.catalog.models import Variant
from apps.catalog.tests.factories import make_product
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.inventory.models import MovementReason, Stock, StockMovement
from apps.payments.models import Refund, RefundStatus
from apps.returns.models import ReturnPolicy, ReturnRequest, ReturnStatus
from apps.returns.services import (
    return_approve,
    return_cancel,
    return_receive,
    return_reject,
    return_request_create,
    returns_sweep,
)
from apps.returns.tests.factories import delivered_order, line_of, parcel, two_sizes
from apps.shipping.tests import factories as f

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def _sizes(store: Any, *, price: str = "10000.00", stock: int = 5) -> tuple[Variant, Variant]:
    return two_sizes(store, price=price, stock=stock)


def _ask(order: Any, store: Any, *lines: dict[str, Any]) -> ReturnRequest:
    return return_request_create(
        customer_id=order.customer_id, shipment_id=parcel(order, store).pk, lines=list(lines)
    )


def _reserved(variant: Variant) -> int:
    return Stock.objects.get(variant=variant).reserved


def _on_hand(variant: Variant) -> int:
    return Stock.objects.get(variant=variant).on_hand


@pytest.fixture
def bought(time_machine: Any) -> dict[str, Any]:
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    medium, large = _sizes(store)
    order = delivered_order([(medium, 2)])
    return {"store": store, "medium": medium, "large": large, "order": order}


def test_a_return_is_taken_until_the_window_closes(
    bought: dict[str, Any], time_machine: Any
) -> None:
    order, store, medium = bought["order"], bought["store"], bought["medium"]
    line = {"line_id": line_of(order, medium), "quantity": 1, "reason": "changed_mind"}

    time_machine.shift(timedelta(days=14))
    first = _ask(order, store, line)
    time_machine.shift(timedelta(seconds=1))
    with pytest.raises(Conflict) as late:
        _ask(order, store, line)

    assert first.status == ReturnStatus.REQUESTED
    assert late.value.code == "return_window_closed"


def test_a_stores_own_window_applies(bought: dict[str, Any], time_machine: Any) -> None:
    order, store, medium = bought["order"], bought["store"], bought["medium"]
    ReturnPolicy.objects.create(store=store, window_days=30)
    time_machine.shift(timedelta(days=29))

    made = _ask(
        order, store, {"line_id": line_of(order, medium), "quantity": 1, "reason": "wrong_item"}
    )

    assert made.lines.get().reason == "wrong_item"


def test_only_delivered_parcels_of_ones_own_orders_can_be_returned(time_machine: Any) -> None:
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    medium, _ = _sizes(store)
    shipped_only = f.paid_order([(medium, 1)])
    other = delivered_order([(medium, 1)])
    line = {"line_id": line_of(shipped_only, medium), "quantity": 1, "reason": "changed_mind"}

    with pytest.raises(Conflict) as not_yet:
        _ask(shipped_only, store, line)
    with pytest.raises(NotFound):
        return_request_create(
            customer_id=shipped_only.customer_id,
            shipment_id=parcel(other, store).pk,
            lines=[line],
        )
    assert not_yet.value.code == "not_delivered"


def test_units_can_never_be_asked_for_twice(bought: dict[str, Any]) -> None:
    order, store, medium = bought["order"], bought["store"], bought["medium"]
    line_id = line_of(order, medium)

    first = _ask(order, store, {"line_id": line_id, "quantity": 1, "reason": "changed_mind"})
    with pytest.raises(ValidationFailed) as too_many:
        _ask(order, store, {"line_id": line_id, "quantity": 2, "reason": "changed_mind"})
    second = _ask(order, store, {"line_id": line_id, "quantity": 1, "reason": "changed_mind"})
    return_reject(return_id=first.pk, store=store, reason="Worn, tags removed")
    third = _ask(order, store, {"line_id": line_id, "quantity": 1, "reason": "changed_mind"})

    assert [e.field for e in too_many.value.field_errors] == ["lines.0.quantity"]
    assert "At most 1" in too_many.value.field_errors[0].message
    assert {second.status, third.status} == {ReturnStatus.REQUESTED}


def test_every_bad_line_field_is_named_at_once(bought: dict[str, Any]) -> None:
    order, store = bought["order"], bought["store"]
    elsewhere = delivered_order([(f.variant(store), 1)])

    with pytest.raises(ValidationFailed) as shape:
        _ask(order, store, {"line_id": 0, "quantity": 0, "reason": "too_tight", "note": "x" * 501})
    with pytest.raises(ValidationFailed) as foreign:
        _ask(
            order,
            store,
            {
                "line_id": line_of(elsewhere, elsewhere.lines.get().variant),
                "quantity": 1,
                "reason": "changed_mind",
            },
        )

    assert [e.field for e in shape.value.field_errors] == [
        "lines.0.line_id",
        "lines.0.quantity",
        "lines.0.reason",
        "lines.0.note",
    ]
    assert [e.field for e in foreign.value.field_errors] == ["lines.0.line_id"]
    assert not ReturnRequest.objects.exists()


def test_an_exchange_reserves_its_replacement_until_the_store_decides(
    bought: dict[str, Any],
) -> None:
    order, store, medium, large = (bought[k] for k in ("order", "store", "medium", "large"))
    line = {
        "line_id": line_of(order, medium),
        "quantity": 2,
        "reason": "changed_mind",
        "exchange_variant_id": large.pk,
    }

    made = _ask(order, store, line)
    assert _reserved(large) == 2
    return_reject(return_id=made.pk, store=store, reason="Outside our policy")
    assert _reserved(large) == 0

    again = _ask(order, store, line)
    return_cancel(return_id=again.pk, customer_id=order.customer_id)
    assert _reserved(large) == 0


def test_an_exchange_for_the_last_units_or_a_dearer_variant_is_refused(
    time_machine: Any,
) -> None:
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    medium, large = _sizes(store, stock=3)
    order = delivered_order([(medium, 3)])
    Stock.objects.filter(variant=large).update(on_hand=2)  # two left in L
    dearer = make_product(store=store, variants=[{"size": "S", "price": "1.00"}]).variants.get()
    dear = Variant.objects.create(
        product=medium.product,
        size="XL",
        colour=medium.colour,
        sku=f"{medium.sku}-XL",
        price=Decimal("12000.00"),
        currency=medium.currency,
    )
    Stock.objects.create(variant=dear, on_hand=5)

    with pytest.raises(Conflict) as gone:
        _ask(
            order,
            store,
            {
                "line_id": line_of(order, medium),
                "quantity": 3,
                "reason": "changed_mind",
                "exchange_variant_id": large.pk,
            },
        )
    assert gone.value.code == "insufficient_stock"
    with pytest.raises(ValidationFailed) as refused:
        _ask(
            order,
            store,
            {
                "line_id": line_of(order, medium),
                "quantity": 1,
                "reason": "changed_mind",
                "exchange_variant_id": dear.pk,
            },
        )
    with pytest.raises(ValidationFailed) as unrelated:
        _ask(
            order,
            store,
            {
                "line_id": line_of(order, medium),
                "quantity": 1,
                "reason": "changed_mind",
                "exchange_variant_id": dearer.pk,
            },
        )

    assert refused.value.field_errors[0].code == "dearer"
    assert unrelated.value.field_errors[0].field == "lines.0.exchange_variant_id"
    assert _reserved(large) == 0 and not ReturnRequest.objects.exists()


def test_receipt_restocks_sellable_units_and_records_the_refund_once(
    bought: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, store, medium = bought["order"], bought["store"], bought["medium"]
    made = _ask(
        order,
        store,
        {"line_id": line_of(order, medium), "quantity": 2, "reason": "damaged_or_faulty"},
    )
    with pytest.raises(Conflict):  # not approved yet
        return_receive(return_id=made.pk, store=store, lines=[], actor=None)
    return_approve(return_id=made.pk, store=store)
    on_hand = _on_hand(medium)

    received = return_receive(
        return_id=made.pk,
        store=store,
        lines=[{"line_id": line_of(order, medium), "sellable": 1, "damaged": 1}],
        actor=store.owner,
    )

    assert _on_hand(medium) == on_hand + 1  # the damaged one stays out
    movement = StockMovement.objects.filter(variant=medium).latest("id")
    assert (movement.reason, movement.on_hand_delta) == (MovementReason.RETURNED, 1)
    refund = Refund.objects.get()
    assert (refund.amount, refund.store_id, refund.status) == (
        Decimal("20000.00"),
        store.pk,
        RefundStatus.PENDING,
    )
    assert received.status == ReturnStatus.RECEIVED and received.refund == refund
    with pytest.raises(Conflict):
        return_receive(return_id=made.pk, store=store, lines=[], actor=None)
    assert Refund.objects.count() == 1


def test_shipping_comes_back_only_by_policy_and_only_with_the_whole_parcel(
    time_machine: Any,
) -> None:
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    f.method(store, "2500.00")
    medium, _ = _sizes(store)
    ReturnPolicy.objects.create(store=store, window_days=14, refund_shipping=True)
    order = delivered_order([(medium, 2)])

    def give_back(quantity: int) -> Decimal:
        made = _ask(
            order,
            store,
            {"line_id": line_of(order, medium), "quantity": quantity, "reason": "not_as_pictured"},
        )
        return_approve(return_id=made.pk, store=store)
        done = return_receive(
            return_id=made.pk,
            store=store,
            lines=[{"line_id": line_of(order, medium), "sellable": quantity}],
            actor=None,
        )
        return done.refund_amount

    assert give_back(1) == Decimal("10000.00")
    assert give_back(1) == Decimal("12500.00")  # the parcel is now all back


def test_an_exchange_for_a_cheaper_variant_refunds_the_difference_and_ships(
    time_machine: Any,
) -> None:
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    medium, _ = _sizes(store)
    cheaper = Variant.objects.create(
        product=medium.product,
        size="S",
        colour=medium.colour,
        sku=f"{medium.sku}-S",
        price=Decimal("8500.00"),
        currency=medium.currency,
    )
    Stock.objects.create(variant=cheaper, on_hand=4)
    order = delivered_order([(medium, 1)])
    made = _ask(
        order,
        store,
        {
            "line_id": line_of(order, medium),
            "quantity": 1,
            "reason": "too_large",
            "exchange_variant_id": cheaper.pk,
        },
    )
    return_approve(return_id=made.pk, store=store)

    done = return_receive(
        return_id=made.pk,
        store=store,
        lines=[{"line_id": line_of(order, medium), "sellable": 1}],
        actor=None,
    )

    assert done.refund_amount == Decimal("1500.00")
    stock = Stock.objects.get(variant=cheaper)
    assert (stock.on_hand, stock.reserved) == (3, 0)  # sold to the customer
    assert done.exchange_shipment is not None
    assert (done.exchange_shipment.status, done.exchange_shipment.is_exchange) == ("awaiting", True)


def test_stores_reach_only_their_own_returns(bought: dict[str, Any]) -> None:
    order, store, medium = bought["order"], bought["store"], bought["medium"]
    made = _ask(
        order, store, {"line_id": line_of(order, medium), "quantity": 1, "reason": "changed_mind"}
    )

    with pytest.raises(NotFound):
        return_approve(return_id=made.pk, store=f.shop())
    with pytest.raises(NotFound):
        return_cancel(return_id=made.pk, customer_id=order.customer_id + 1000)
    with pytest.raises(ValidationFailed):
        return_reject(return_id=made.pk, store=store, reason="  ")
    made.refresh_from_db()
    assert made.status == ReturnStatus.REQUESTED


def test_unanswered_requests_go_to_staff_and_unsent_returns_expire(
    bought: dict[str, Any], time_machine: Any, settings: Any
) -> None:
    settings.RETURN_ESCALATE_DAYS, settings.RETURN_SHIP_BACK_DAYS = 3, 21
    order, store, medium, large = (bought[k] for k in ("order", "store", "medium", "large"))
    waiting = _ask(
        order, store, {"line_id": line_of(order, medium), "quantity": 1, "reason": "changed_mind"}
    )
    approved = _ask(
        order,
        store,
        {
            "line_id": line_of(order, medium),
            "quantity": 1,
            "reason": "changed_mind",
            "exchange_variant_id": large.pk,
        },
    )
    return_approve(return_id=approved.pk, store=store)

    time_machine.shift(timedelta(days=3, seconds=-1))
    assert returns_sweep() == (0, 0)
    time_machine.shift(timedelta(days=18, seconds=2))
    assert returns_sweep() == (1, 1)
    assert returns_sweep() == (0, 0)

    waiting.refresh_from_db()
    approved.refresh_from_db()
    assert waiting.escalated_at is not None and waiting.status == ReturnStatus.REQUESTED
    assert approved.status == ReturnStatus.EXPIRED and _reserved(large) == 0
