"""Property-based: random orders over several stores, partial and full refunds, rate
changes, deliveries, time passing, payouts made and failed. After every step:

* every line's commission + vendor net is its total, the order's commissions add up to
  its exact commission rounded once (half up), and each line carries the rate in force
  when it was placed (later changes never alter it);
* the ledger sums to the balances (``checks.assert_ledger_consistent``);
* what a store was given or is owed (pending + available - debt + paid out) is what its
  parts of orders still bring after refunds;
* the held balance is exactly the held parts' remainder: nothing became available before
  its hold ended, and nothing refunded before its hold ended ever did.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from apps.catalog.models import Variant
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.payments.providers.base import TransferResult
from apps.payouts.models import (
    DestinationStatus,
    Earning,
    EarningStatus,
    EntryKind,
    LedgerEntry,
    PayoutDestination,
    StoreBalance,
)
from apps.payouts.services import (
    earnings_release_due,
    payout_apply,
    payout_create,
    refund_record,
)
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent
from apps.vendors.models import Store

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
STORES = 3
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

# Prices in quarters: exact in binary, so SQLite's check of total = price x quantity holds.
line = st.tuples(st.integers(0, STORES - 1), st.integers(1, 40_000), st.integers(1, 3))
rate = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
# An order: placed at an hour, its lines, delivered some hours later (or never), refunds
# some hours after it was placed (thousandths of its total).
order_plan = st.tuples(
    st.integers(0, 300),
    st.lists(line, min_size=1, max_size=4),
    st.one_of(st.integers(0, 72), st.integers(0, 72), st.none()),
    st.lists(st.tuples(st.integers(0, 400), st.integers(1, 1000)), max_size=3),
)
rate_change = st.tuples(st.integers(0, 300), st.integers(0, STORES - 1), rate)
payout_plan = st.tuples(
    st.integers(0, 600), st.integers(0, STORES - 1), st.sampled_from(["paid", "failed"])
)
END = 800  # hours: every delivered part's hold is over by then
# At one hour: rate changes, then orders, deliveries, refunds, payouts.
PRIORITY = {"rate": 0, "order": 1, "deliver": 2, "refund": 3, "payout": 4, "end": 5}


def timeline(
    orders: list[Any], rates: list[Any], payouts: list[Any]
) -> list[tuple[int, tuple[Any, ...]]]:
    """Every step at its hour, in the order they happen."""
    events: list[tuple[int, int, int, tuple[Any, ...]]] = []

    def at(hour: int, action: tuple[Any, ...]) -> None:
        events.append((hour, PRIORITY[action[0]], len(events), action))

    ranked = sorted(range(len(orders)), key=lambda i: (orders[i][0], i))
    for index, original in enumerate(ranked):
        placed, lines, delivery, refunds = orders[original]
        at(placed, ("order", lines))
        if delivery is not None:
            at(placed + delivery, ("deliver", index))
        for later, permille in refunds:
            at(placed + later, ("refund", index, permille))
    for hour, store, value in rates:
        at(hour, ("rate", store, value))
    for hour, store, outcome in payouts:
        at(hour, ("payout", store, outcome))
    at(END, ("end",))
    return [(hour, action) for hour, _, _, action in sorted(events)]


class World:
    def __init__(self) -> None:
        self.stores: list[Store] = [f.store("10.00") for _ in range(STORES)]
        self.variants: dict[tuple[int, int], Variant] = {}
        self.orders: list[Order] = []
        self.refunded: dict[int, Decimal] = {}
        self.rates_at_sale: dict[int, Decimal] = {}  # line id → rate in force
        for shop in self.stores:
            PayoutDestination.objects.create(
                store=shop,
                provider="paystack",
                account_code=f"RCP_prop{shop.pk:08d}",
                status=DestinationStatus.VERIFIED,
            )

    def variant(self, index: int, quarters: int) -> Variant:
        key = (index, quarters)
        if key not in self.variants:
            price = f"{Decimal(quarters) / 4:.2f}"
            self.variants[key] = f.variant(self.stores[index], price, stock=10_000)
        return self.variants[key]

    def apply(self, action: tuple[Any, ...]) -> None:
        getattr(self, f"do_{action[0]}")(*action[1:])
        if earnings_release_due():
            event("a part was released")

    def do_order(self, lines: list[tuple[int, int, int]]) -> None:
        rates = {shop.pk: Store.objects.get(pk=shop.pk).commission_rate for shop in self.stores}
        order = f.paid([(self.variant(s, q), n) for s, q, n in lines])
        for placed in order.lines.all():
            self.rates_at_sale[placed.pk] = rates[placed.store_id]
        self.orders.append(order)

    def do_refund(self, index: int, permille: int) -> None:
        order = self.orders[index]
        left = order.total_amount - self.refunded.get(order.pk, Decimal(0))
        amount = min(left, (order.total_amount * permille / 1000).quantize(CENT))
        if amount <= 0:
            return
        self.refunded[order.pk] = self.refunded.get(order.pk, Decimal(0)) + amount
        refund_record(refund_id=f.refunded(order, amount).pk)

    def do_deliver(self, index: int) -> None:
        order = self.orders[index]
        order.refresh_from_db()
        if order.status == OrderStatus.PAID:  # not refunded in full meanwhile
            f.delivered(order)

    def do_end(self) -> None:
        pass

    def do_rate(self, index: int, value: Decimal) -> None:
        Store.objects.filter(pk=self.stores[index].pk).update(commission_rate=value)

    def do_payout(self, index: int, outcome: str) -> None:
        payout = payout_create(store_id=self.stores[index].pk, currency="NGN")
        if isinstance(payout, str):
            return
        result = TransferResult(
            state="succeeded" if outcome == "paid" else "failed", transfer_id="TRF_x"
        )
        payout_apply(payout_id=payout.pk, result=result)

    def check(self, hold: timedelta) -> None:
        assert_ledger_consistent()
        for order in self.orders:
            lines = list(OrderLine.objects.filter(order=order))
            exact = sum(
                (line.line_total * line.commission_rate / 100 for line in lines), Decimal(0)
            )
            assert sum(line.commission_amount for line in lines) == exact.quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            for placed in lines:
                assert placed.commission_amount + placed.vendor_net == placed.line_total
                assert placed.commission_rate == self.rates_at_sale[placed.pk]
        for shop in self.stores:
            self._check_store(shop, hold)

    @staticmethod
    def _check_store(shop: Store, hold: timedelta) -> None:
        balance = StoreBalance.objects.filter(store=shop).first()
        if balance is None:
            return
        parts = list(Earning.objects.filter(store=shop).select_related("order"))
        remaining = sum((part.net_remaining for part in parts), Decimal(0))
        assert balance.pending + balance.available - balance.debt + balance.paid_out == remaining
        held = [part for part in parts if part.status == EarningStatus.HELD]
        assert balance.pending == sum((part.net_remaining for part in held), Decimal(0))
        for part in parts:
            released = LedgerEntry.objects.filter(earning=part, kind=EntryKind.RELEASE).first()
            if part.status != EarningStatus.RELEASED:
                assert released is None
                continue
            assert part.order.delivered_at is not None
            assert part.released_at >= part.order.delivered_at + hold  # type: ignore[operator]
            moved = LedgerEntry.objects.filter(earning=part).values_list("pending", flat=True)
            assert sum(moved, Decimal(0)) == 0  # nothing of it is still held


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=st.lists(order_plan, min_size=1, max_size=6),
    rates=st.lists(rate_change, max_size=4),
    payouts=st.lists(payout_plan, max_size=4),
)
def test_the_ledger_always_adds_up(
    orders: list[Any], rates: list[Any], payouts: list[Any], settings: Any
) -> None:
    settings.PAYOUT_HOLD_DAYS = 7
    hold = timedelta(days=7)
    with time_machine.travel(START, tick=False) as clock, transaction.atomic():
        world = World()
        for hour, action in timeline(orders, rates, payouts):
            clock.move_to(START + timedelta(hours=hour))
            world.apply(action)
            world.check(hold)
        transaction.set_rollback(True)
