"""The demo order history: every status, consistent money and timestamps, real
reservations for the unpaid orders only, idempotent and the same for the same seed."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from apps.inventory.models import MovementReason, Stock, StockMovement
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.returns.models import ReturnRequest
from apps.shipping.models import Shipment, ShipmentStatus, ShippingMethod
from apps.vendors.models import StoreStatus

pytestmark = pytest.mark.django_db

SMALL_HISTORY, SMALL_PENDING = 150, 3


def seed() -> None:
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())


def snapshot() -> tuple[int, int, Decimal, dict[str, int]]:
    totals = Order.objects.aggregate(total=Sum("total_amount"))
    statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return Order.objects.count(), OrderLine.objects.count(), totals["total"], statuses


def test_small_history_is_complete_consistent_and_idempotent() -> None:
    seed()
    first = snapshot()
    seed()

    assert snapshot() == first
    count, _, _, statuses = first
    assert count == SMALL_HISTORY + SMALL_PENDING
    assert set(statuses) == set(OrderStatus.values)
    assert statuses[OrderStatus.PENDING_PAYMENT] == SMALL_PENDING
    assert statuses[OrderStatus.DELIVERED] == max(statuses.values())

    demo_statuses = set(
        Order.objects.filter(customer__email="customer@example.com").values_list(
            "status", flat=True
        )
    )
    assert demo_statuses == set(OrderStatus.values)

    sums = dict(Order.objects.values_list("pk").annotate(s=Sum("lines__line_total")).order_by())
    shipping = dict(
        Order.objects.values_list("pk").annotate(s=Sum("shipments__shipping_amount")).order_by()
    )
    assert all(
        order.total_amount == sums[order.pk] + shipping[order.pk]
        and order.shipping_amount == shipping[order.pk]
        for order in Order.objects.all()
    )
    assert len(Order.objects.values_list("order_number", flat=True).distinct()) == count
    assert all(
        len(number) == 12 and number.startswith("FS-") and number[7] == "-"
        for number in Order.objects.values_list("order_number", flat=True)
    )


def test_lines_are_snapshots_of_approved_stores_variants() -> None:
    seed()

    lines = OrderLine.objects.select_related(
        "store", "variant__product", "variant__colour", "order"
    )
    for line in lines:
        variant = line.variant
        assert line.store.status == StoreStatus.APPROVED
        assert line.store_id == variant.product.store_id
        assert (line.product_name, line.sku, line.size, line.colour) == (
            variant.product.name,
            variant.sku,
            variant.size,
            variant.colour.name,
        )
        assert line.unit_price == variant.price
        assert line.order.currency == variant.currency
        assert 1 <= line.quantity <= 4
    per_order = Counter(OrderLine.objects.values_list("order_id", flat=True))
    assert set(per_order.values()) <= {1, 2, 3, 4}


# Which timestamps each status has: paid, fulfilled, delivered, cancelled, refunded.
STAMPS: dict[str, tuple[bool, bool, bool, bool, bool]] = {
    OrderStatus.PENDING_PAYMENT: (False, False, False, False, False),
    OrderStatus.PAID: (True, False, False, False, False),
    OrderStatus.PARTLY_SHIPPED: (True, False, False, False, False),
    OrderStatus.FULFILLED: (True, True, False, False, False),
    OrderStatus.DELIVERED: (True, True, True, False, False),
    OrderStatus.CANCELLED: (False, False, False, True, False),
    OrderStatus.REFUNDED: (True, False, False, False, True),
}


def test_timestamps_follow_the_lifecycle() -> None:
    seed()
    now = timezone.now()
    hold = timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))

    for order in Order.objects.prefetch_related("lines"):
        events = (
            order.paid_at,
            order.fulfilled_at,
            order.delivered_at,
            order.cancelled_at,
            order.refunded_at,
        )
        assert tuple(at is not None for at in events) == STAMPS[order.status], order.status
        chain = [order.created_at, *(at for at in events if at is not None)]
        assert chain == sorted(chain), order.status
        assert chain[-1] <= now and order.updated_at >= chain[-1]
        if order.status == OrderStatus.PENDING_PAYMENT:
            # Placement reads its clock a moment before the insert stamps created_at.
            assert abs(order.reserved_until - (order.created_at + hold)) < timedelta(seconds=1)
        else:
            assert order.reserved_until == order.created_at + hold
        if order.status == OrderStatus.CANCELLED:
            assert order.cancel_reason in {"expired", "customer"}

        shipped = [line.fulfilled_at for line in order.lines.all()]
        if order.fulfilled_at is not None:
            # Each store ships after payment; the last one to ship fulfils the order.
            assert order.paid_at is not None
            assert all(at is not None and order.paid_at <= at for at in shipped)
            assert max(at for at in shipped if at is not None) == order.fulfilled_at
        elif order.status == OrderStatus.PAID:
            assert set(shipped) == {None}  # no store has shipped yet
        elif order.status == OrderStatus.PARTLY_SHIPPED:
            assert None in shipped and set(shipped) != {None}  # some stores have, not all
        else:
            assert shipped == [None] * len(shipped)


def test_only_unpaid_orders_hold_stock() -> None:
    seed()

    pending = OrderLine.objects.filter(order__status=OrderStatus.PENDING_PAYMENT)
    wanted = Counter[int]()
    for variant_id, quantity in pending.values_list("variant_id", "quantity"):
        wanted[variant_id] += quantity
    reserved = dict(Stock.objects.filter(reserved__gt=0).values_list("variant_id", "reserved"))
    assert reserved == dict(wanted)
    ledger = Counter[int]()
    for variant_id, delta in StockMovement.objects.filter(
        reason=MovementReason.RESERVED
    ).values_list("variant_id", "reserved_delta"):
        ledger[variant_id] += delta
    assert ledger == wanted
    reserving_orders = set(
        StockMovement.objects.filter(reason=MovementReason.RESERVED).values_list(
            "order_id", flat=True
        )
    )
    assert reserving_orders == set(pending.values_list("order_id", flat=True))
    # The past left current stock as the catalogue seeded it.
    initial = StockMovement.objects.filter(reason=MovementReason.INITIAL).aggregate(
        n=Sum("on_hand_delta")
    )
    assert Stock.objects.aggregate(n=Sum("on_hand")) == initial
    assert not StockMovement.objects.filter(reason=MovementReason.SOLD).exists()


def test_the_same_seed_gives_the_same_history(time_machine: Any) -> None:
    time_machine.move_to("2026-11-22 10:00:00Z", tick=False)

    def history() -> list[tuple[Any, ...]]:
        return list(
            Order.objects.exclude(status=OrderStatus.PENDING_PAYMENT)
            .order_by("created_at", "customer__email")
            .values_list("customer__email", "created_at", "status", "total_amount")
        )

    seed()
    first, first_snapshot = history(), snapshot()
    ReturnRequest.objects.all().delete()  # the demo returns of these orders
    Order.objects.all().delete()
    StockMovement.objects.filter(reason=MovementReason.RESERVED).delete()
    Stock.objects.update(reserved=0)

    seed()

    assert history() == first
    assert snapshot()[:3] == first_snapshot[:3]
    assert snapshot()[3] == first_snapshot[3]


def test_the_parcels_follow_their_orders_and_show_every_state() -> None:
    seed()

    states = Counter(Shipment.objects.values_list("status", flat=True))
    assert set(states) == set(ShipmentStatus.values)
    for shipment in Shipment.objects.select_related("order"):
        order = shipment.order
        sent = set(
            order.lines.filter(store_id=shipment.store_id).values_list("fulfilled_at", flat=True)
        )
        if shipment.status in {"shipped", "delivered", "returned"}:
            assert sent == {shipment.shipped_at} and shipment.tracking_number
            assert shipment.packed_at is not None and shipment.shipped_at is not None
            assert shipment.packed_at <= shipment.shipped_at
        else:
            assert sent == {None} and shipment.shipped_at is None
        if shipment.status == ShipmentStatus.DELIVERED:
            assert order.status == OrderStatus.DELIVERED
            assert shipment.delivered_at == order.delivered_at
    assert ShippingMethod.objects.filter(store__isnull=True).exists()
    assert ShippingMethod.objects.filter(store__isnull=False).exists()
