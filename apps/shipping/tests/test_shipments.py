"""A shipment's life at the service level: packing every line of a store, shipping
with carrier and tracking (a link for known carriers), delivery by the customer, the
vendor or the scheduler, return to sender; every step out of order refused and nothing
changed; the order's status following its parcels; the customer's emails; the vendor's
digest of lines left unshipped; staff corrections kept in the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.analytics.periods import ReportScope
from apps.analytics.selectors import sales_figures
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.common.scheduler import run_due_jobs
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_cancel
from apps.orders.tests.factories import place_order
from apps.payouts.models import Earning, EarningStatus
from apps.payouts.services import earnings_record, earnings_release_due
from apps.shipping.models import (
    SHIPMENT_TRANSITIONS,
    Carrier,
    Shipment,
    ShipmentChange,
    ShipmentStatus,
)
from apps.shipping.services import (
    shipment_confirm_delivery,
    shipment_correct,
    shipment_pack,
    shipment_report_delivered,
    shipment_report_returned,
    shipment_ship,
    shipments_deliver_overdue,
)
from apps.shipping.tasks import unshipped_digests_send
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_stores() -> tuple[Order, Any, Any]:
    adire, kente = f.shop(), f.shop()
    order = f.paid_order([(f.variant(adire), 1), (f.variant(adire), 2), (f.variant(kente), 1)])
    return order, adire, kente


def _status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def _ship(order: Order, store: Any, capture: Any, carrier: str = "DHL") -> Shipment:
    with capture(execute=True):
        return shipment_ship(
            shipment_id=f.shipment_of(order, store).pk,
            store=store,
            carrier=carrier,
            tracking_number="JD0146000033",
        )


def test_the_order_follows_its_parcels_to_delivery(
    two_stores: tuple[Order, Any, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, adire, kente = two_stores
    capture = django_capture_on_commit_callbacks
    lines = list(order.lines.filter(store=adire).values_list("pk", flat=True))

    packed = shipment_pack(store=adire, line_ids=lines)
    assert packed.status == ShipmentStatus.PACKED and packed.packed_at is not None
    assert _status(order) == OrderStatus.PAID

    _ship(order, adire, capture)
    assert _status(order) == OrderStatus.PARTLY_SHIPPED
    assert set(order.lines.filter(store=adire).values_list("fulfilled_at", flat=True)) != {None}
    assert set(order.lines.filter(store=kente).values_list("fulfilled_at", flat=True)) == {None}

    _ship(order, kente, capture)
    assert _status(order) == OrderStatus.FULFILLED and order.fulfilled_at is not None

    with capture(execute=True):
        shipment_confirm_delivery(
            shipment_id=f.shipment_of(order, adire).pk, customer_id=order.customer_id
        )
    assert _status(order) == OrderStatus.FULFILLED and order.delivered_at is None

    with capture(execute=True):
        shipment_report_delivered(shipment_id=f.shipment_of(order, kente).pk, store=kente)
    assert _status(order) == OrderStatus.DELIVERED
    assert order.delivered_at == f.shipment_of(order, kente).delivered_at
    history = list(
        ShipmentChange.objects.filter(shipment__store=adire).values_list(
            "from_status", "to_status", "source"
        )
    )
    assert history == [
        ("awaiting", "packed", "vendor"),
        ("packed", "shipped", "vendor"),
        ("shipped", "delivered", "customer"),
    ]


def test_a_parcel_returned_to_its_sender_leaves_the_order_to_the_others(
    two_stores: tuple[Order, Any, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, adire, kente = two_stores
    capture = django_capture_on_commit_callbacks
    _ship(order, adire, capture)
    _ship(order, kente, capture)

    shipment_report_returned(shipment_id=f.shipment_of(order, adire).pk, store=adire)
    assert _status(order) == OrderStatus.FULFILLED
    shipment_report_delivered(shipment_id=f.shipment_of(order, kente).pk, store=kente)

    assert _status(order) == OrderStatus.DELIVERED
    returned = f.shipment_of(order, adire)
    assert returned.status == ShipmentStatus.RETURNED and returned.returned_at is not None


def test_the_customer_is_emailed_with_tracking_when_a_parcel_leaves_and_arrives(
    two_stores: tuple[Order, Any, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, adire, _ = two_stores
    Carrier.objects.update_or_create(
        name="DHL", defaults={"tracking_url_template": "https://dhl.example/track/{number}"}
    )
    mail.outbox.clear()

    shipped = _ship(order, adire, django_capture_on_commit_callbacks, carrier="dhl")
    with django_capture_on_commit_callbacks(execute=True):
        shipment_confirm_delivery(shipment_id=shipped.pk, customer_id=order.customer_id)

    assert shipped.tracking_url == "https://dhl.example/track/JD0146000033"
    sent, arrived = mail.outbox
    assert sent.to == arrived.to == [order.customer.email]
    assert sent.subject == f"Your order {order.order_number} from {adire.name} has shipped"
    assert "JD0146000033" in sent.body and "https://dhl.example/track/JD0146000033" in sent.body
    assert arrived.subject == f"Your order {order.order_number} from {adire.name} was delivered"


def test_an_unknown_carrier_gets_no_link() -> None:
    order = f.paid_order([(f.variant(store := f.shop()), 1)])
    shipped = shipment_ship(
        shipment_id=f.shipment_of(order, store).pk,
        store=store,
        carrier="Kwik Couriers",
        tracking_number="KW-1",
    )
    assert (shipped.carrier, shipped.tracking_url) == ("Kwik Couriers", "")


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (start, to)
        for start in ShipmentStatus.values
        for to in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED)
        if to not in SHIPMENT_TRANSITIONS[start]
    ],
)
def test_every_step_out_of_order_is_refused_and_changes_nothing(start: str, to: str) -> None:
    store = f.shop()
    order = f.paid_order([(f.variant(store), 1), (f.variant(f.shop()), 1)])
    shipment = f.shipment_of(order, store)
    if start != ShipmentStatus.AWAITING:
        shipment_correct(
            shipment_id=shipment.pk, to=start, actor=StaffFactory.create(), reason="set up"
        )
    shipment.refresh_from_db()
    before = (Shipment.objects.filter(pk=shipment.pk).values().get(), _status(order))

    with pytest.raises(Conflict) as refused:
        if to == ShipmentStatus.SHIPPED:
            shipment_ship(shipment_id=shipment.pk, store=store, carrier="UPS", tracking_number="1")
        elif to == ShipmentStatus.DELIVERED:
            shipment_report_delivered(shipment_id=shipment.pk, store=store)
        else:
            shipment_report_returned(shipment_id=shipment.pk, store=store)

    assert refused.value.code in {"illegal_shipment_transition", "shipment_already_in_status"}
    assert (Shipment.objects.filter(pk=shipment.pk).values().get(), _status(order)) == before


def test_parcels_of_unpaid_or_cancelled_orders_cannot_be_sent() -> None:
    store = f.shop()
    unpaid = place_order(items=[(f.variant(store), 1)])
    cancelled = place_order(items=[(f.variant(store), 1)])
    order_cancel(order_id=cancelled.pk, reason="customer")

    for order in (unpaid, cancelled):
        with pytest.raises(Conflict) as refused:
            shipment_ship(
                shipment_id=f.shipment_of(order, store).pk,
                store=store,
                carrier="UPS",
                tracking_number="1Z999",
            )
        assert refused.value.code == "order_not_paid"
        assert f.shipment_of(order, store).status == ShipmentStatus.AWAITING


def test_packing_needs_every_line_of_the_store_in_one_order(
    two_stores: tuple[Order, Any, Any],
) -> None:
    order, adire, kente = two_stores
    first, second = order.lines.filter(store=adire).order_by("id").values_list("pk", flat=True)
    other = f.paid_order([(f.variant(adire), 1)])

    with pytest.raises(ValidationFailed) as partial:
        shipment_pack(store=adire, line_ids=[first])
    with pytest.raises(ValidationFailed) as mixed:
        shipment_pack(store=adire, line_ids=[first, second, other.lines.get().pk])
    with pytest.raises(NotFound):
        shipment_pack(store=kente, line_ids=[first, second])

    assert partial.value.field_errors[0].field == "line_ids"
    assert partial.value.details == {"missing_line_ids": [second]}
    assert mixed.value.field_errors[0].code == "several_orders"
    assert f.shipment_of(order, adire).status == ShipmentStatus.AWAITING


def test_shipping_needs_a_carrier_and_a_tracking_number(
    two_stores: tuple[Order, Any, Any],
) -> None:
    order, adire, _ = two_stores

    with pytest.raises(ValidationFailed) as refused:
        shipment_ship(
            shipment_id=f.shipment_of(order, adire).pk,
            store=adire,
            carrier=" ",
            tracking_number="has space",
        )

    assert [e.field for e in refused.value.field_errors] == ["carrier", "tracking_number"]


def test_stores_and_customers_reach_only_their_own_parcels(
    two_stores: tuple[Order, Any, Any],
) -> None:
    order, adire, kente = two_stores
    stranger = f.paid_order([(f.variant(f.shop()), 1)])
    theirs = f.shipment_of(order, kente)

    with pytest.raises(NotFound):
        shipment_ship(shipment_id=theirs.pk, store=adire, carrier="UPS", tracking_number="1")
    with pytest.raises(NotFound):
        shipment_confirm_delivery(shipment_id=theirs.pk, customer_id=stranger.customer_id)
    assert f.shipment_of(order, kente).status == ShipmentStatus.AWAITING


def test_parcels_nobody_reports_are_delivered_after_the_window(
    time_machine: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SHIPMENT_AUTO_DELIVERY_DAYS = 10
    time_machine.move_to(T0, tick=False)
    store = f.shop()
    early, late = (f.paid_order([(f.variant(store), 1)]) for _ in range(2))
    _ship(early, store, django_capture_on_commit_callbacks)
    time_machine.shift(timedelta(days=2))
    _ship(late, store, django_capture_on_commit_callbacks)

    time_machine.shift(timedelta(days=8, seconds=-1))
    assert shipments_deliver_overdue() == 0
    time_machine.shift(timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        run_due_jobs()

    delivered = f.shipment_of(early, store)
    assert (delivered.status, delivered.delivery_confirmed_by) == ("delivered", "automatic")
    assert delivered.delivered_at == T0 + timedelta(days=10)
    assert _status(early) == OrderStatus.DELIVERED
    assert f.shipment_of(late, store).status == ShipmentStatus.SHIPPED
    assert shipments_deliver_overdue() == 0  # a second run finds nothing


def test_vendors_get_one_digest_of_lines_unshipped_after_48_hours(
    time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    time_machine.move_to(T0, tick=False)
    slow, quick = f.shop(), f.shop()
    waiting = [f.paid_order([(f.variant(slow), 1)]) for _ in range(2)]
    sent = f.paid_order([(f.variant(quick), 1)])
    _ship(sent, quick, django_capture_on_commit_callbacks)
    time_machine.shift(timedelta(hours=47))
    assert unshipped_digests_send() == 0

    time_machine.shift(timedelta(hours=1))
    fresh = f.paid_order([(f.variant(slow), 1)])
    mail.outbox.clear()
    assert unshipped_digests_send() == 1

    [digest] = mail.outbox
    assert digest.to == [slow.owner.email]
    assert digest.subject == f"2 paid lines of {slow.name} still to ship"
    assert all(order.order_number in digest.body for order in waiting)
    assert fresh.order_number not in digest.body


def test_staff_correct_a_status_with_a_reason_and_the_order_follows(
    two_stores: tuple[Order, Any, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, adire, kente = two_stores
    staff = StaffFactory.create()
    _ship(order, adire, django_capture_on_commit_callbacks)
    _ship(order, kente, django_capture_on_commit_callbacks)
    shipment_report_delivered(shipment_id=f.shipment_of(order, adire).pk, store=adire)
    shipment_report_delivered(shipment_id=f.shipment_of(order, kente).pk, store=kente)
    assert _status(order) == OrderStatus.DELIVERED

    with pytest.raises(ValidationFailed) as no_reason:
        shipment_correct(
            shipment_id=f.shipment_of(order, kente).pk, to="shipped", actor=staff, reason=" "
        )
    corrected = shipment_correct(
        shipment_id=f.shipment_of(order, kente).pk,
        to="shipped",
        actor=staff,
        reason="Carrier scanned the wrong parcel",
    )

    assert no_reason.value.field_errors[0].field == "reason"
    assert corrected.status == "shipped" and corrected.delivered_at is None
    assert _status(order) == OrderStatus.FULFILLED and order.delivered_at is None
    change = ShipmentChange.objects.filter(shipment=corrected).latest("id")
    assert (change.actor, change.source, change.reason) == (
        staff,
        "staff",
        "Carrier scanned the wrong parcel",
    )


def test_a_stores_earnings_are_held_from_its_own_parcels_delivery(
    time_machine: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PAYOUT_HOLD_DAYS = 7
    time_machine.move_to(T0, tick=False)
    quick, slow, back = f.shop(), f.shop(), f.shop()
    order = f.paid_order([(f.variant(s), 1) for s in (quick, slow, back)])
    earnings_record(order_id=order.pk)
    for store in (quick, slow, back):
        _ship(order, store, django_capture_on_commit_callbacks)
    shipment_report_delivered(shipment_id=f.shipment_of(order, quick).pk, store=quick)
    shipment_report_returned(shipment_id=f.shipment_of(order, back).pk, store=back)

    time_machine.shift(timedelta(days=7))
    released = earnings_release_due()

    states = dict(Earning.objects.filter(order=order).values_list("store_id", "status"))
    assert released == 1
    assert states == {
        quick.pk: EarningStatus.RELEASED,  # its parcel arrived a week ago
        slow.pk: EarningStatus.HELD,  # still on its way
        back.pk: EarningStatus.HELD,  # came back: never released by delivery
    }


def test_a_partly_shipped_order_is_still_a_sale_for_the_ledger_and_the_report(
    two_stores: tuple[Order, Any, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order, adire, kente = two_stores
    _ship(order, adire, django_capture_on_commit_callbacks)
    assert _status(order) == OrderStatus.PARTLY_SHIPPED

    recorded = earnings_record(order_id=order.pk)
    day = timezone.localdate(order.paid_at)
    [figures] = sales_figures(scope=ReportScope(start=day, end=day))

    assert {earning.store_id for earning in recorded} == {adire.pk, kente.pk}
    assert figures["totals"]["orders"] == 1
    assert figures["totals"]["gross_revenue"] == str(order.total_amount)
