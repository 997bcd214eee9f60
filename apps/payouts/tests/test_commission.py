"""Commission at the moment of sale: which rate applies (category rules up the tree, the
store's own, the marketplace default), the split to the minor unit (lines add up to the
order exactly, half up once), and later rate changes never touching lines sold."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from apps.catalog.selectors import category_rows
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.orders.models import OrderLine
from apps.orders.services import OrderItem, order_create
from apps.orders.tests.factories import ADDRESS, place_order
from apps.orders.tests.test_query_counts import PLACEMENT_QUERIES
from apps.payouts.models import CommissionRule
from apps.payouts.rounding import apportion, commission_split
from apps.payouts.tests import factories as f
from apps.vendors.models import Store
from apps.vendors.tests.factories import UserFactory

CENT = Decimal("0.01")

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2)
rates = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100.00"), places=2)


# --- the split ------------------------------------------------------------------------------


@given(st.lists(st.tuples(amounts, rates), min_size=1, max_size=40))
def test_line_commissions_add_up_to_the_order_rounded_once_half_up(
    lines: list[tuple[Decimal, Decimal]],
) -> None:
    shares = commission_split(lines, "NGN")

    exact = [total * rate / 100 for total, rate in lines]
    assert sum(shares) == sum(exact, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    for share, value, (total, _) in zip(shares, exact, lines, strict=True):
        assert abs(share - value) < CENT  # within one minor unit of its exact value
        assert 0 <= share <= total  # so the vendor's net is never negative
        assert share + (total - share) == total
        assert share == share.quantize(CENT)


def test_the_units_left_over_go_to_the_largest_fractions_then_the_earlier_line() -> None:
    # 3 lines of 0.05 at 10 %: 0.005 each, 0.015 in all → 0.02: two lines get a cent
    assert commission_split([(Decimal("0.05"), Decimal("10"))] * 3, "NGN") == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.00"),
    ]
    # fractions .7, .2 and .6 of a cent, 1.5 cents in all → 2: the .7 and the .6
    lines = [(Decimal("0.17"), Decimal("10")), (Decimal("0.12"), Decimal("10"))]
    lines.append((Decimal("0.16"), Decimal("10")))
    assert commission_split(lines, "NGN") == [Decimal("0.02"), Decimal("0.01"), Decimal("0.02")]


def test_a_currency_without_minor_units_rounds_to_whole_units() -> None:
    assert commission_split([(Decimal("1005.00"), Decimal("12.50"))], "JPY") == [Decimal("126")]


@given(
    st.lists(amounts, min_size=1, max_size=20),
    st.integers(min_value=0, max_value=10**6),
)
def test_an_apportioned_amount_adds_up_and_no_part_exceeds_its_weight(
    weights: list[Decimal], cents: int
) -> None:
    amount = min(Decimal(cents) * CENT, sum(weights, Decimal(0)))

    shares = apportion(amount, weights, CENT)

    assert sum(shares) == amount
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


# --- the rate of a line -----------------------------------------------------------------------


def _rate_of(store: Store, category: Any) -> Decimal:
    product = make_product(store=store, category=category, variants=[{"stock": 5}])
    order = place_order(items=[(product.variants.get(), 1)])
    rate: Decimal = order.lines.get().commission_rate
    return rate


@pytest.mark.django_db
def test_the_store_rate_applies_without_rules() -> None:
    assert _rate_of(f.store("12.50"), CategoryFactory.create()) == Decimal("12.50")


@pytest.mark.django_db
def test_a_category_rule_applies_below_it_and_the_stores_own_rule_wins() -> None:
    shop, other = f.store("10.00"), f.store("10.00")
    clothing = CategoryFactory.create()
    dresses = CategoryFactory.create(parent=clothing)
    gowns = CategoryFactory.create(parent=dresses)
    CommissionRule.objects.create(category=clothing, rate=Decimal("15.00"))
    CommissionRule.objects.create(category=dresses, store=shop, rate=Decimal("7.50"))

    assert _rate_of(other, gowns) == Decimal("15.00")  # the marketplace rule two levels up
    assert _rate_of(shop, gowns) == Decimal("7.50")  # the store's own rule, nearer
    assert _rate_of(shop, clothing) == Decimal("15.00")  # above the store's rule
    assert _rate_of(shop, CategoryFactory.create()) == Decimal("10.00")  # no rule: its rate


@pytest.mark.django_db
def test_a_nearer_marketplace_rule_beats_a_farther_store_rule() -> None:
    shop = f.store("10.00")
    shoes = CategoryFactory.create()
    sneakers = CategoryFactory.create(parent=shoes)
    CommissionRule.objects.create(category=shoes, store=shop, rate=Decimal("5.00"))
    CommissionRule.objects.create(category=sneakers, rate=Decimal("20.00"))

    assert _rate_of(shop, sneakers) == Decimal("20.00")


@pytest.mark.django_db
def test_later_rate_changes_never_alter_lines_sold() -> None:
    shop = f.store("10.00")
    variant = f.variant(shop, "250.00")
    order = place_order(items=[(variant, 2)])
    rule = CommissionRule.objects.create(category=variant.product.category, rate=Decimal("30"))
    Store.objects.filter(pk=shop.pk).update(commission_rate=Decimal("25.00"))
    rule.rate = Decimal("40.00")
    rule.save()

    line = OrderLine.objects.get(order=order)
    assert (line.commission_rate, line.commission_amount, line.vendor_net) == (
        Decimal("10.00"),
        Decimal("50.00"),
        Decimal("450.00"),
    )
    later = place_order(items=[(variant, 2)]).lines.get()
    assert (later.commission_rate, later.commission_amount) == (Decimal("40.00"), Decimal("200.00"))


@pytest.mark.django_db
def test_an_order_of_several_stores_and_rates_adds_up_to_the_minor_unit() -> None:
    first, second = f.store("12.50"), f.store("7.25")
    items = [(f.variant(first, "333.33"), 3), (f.variant(second, "19.75"), 7)]
    items.append((f.variant(first, "0.07"), 1))

    order = place_order(items=items)

    lines = list(order.lines.order_by("id"))
    exact = sum((line.line_total * line.commission_rate / 100 for line in lines), Decimal(0))
    assert sum(line.commission_amount for line in lines) == exact.quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    assert all(line.commission_amount + line.vendor_net == line.line_total for line in lines)
    assert sum(line.vendor_net + line.commission_amount for line in lines) == order.total_amount


@pytest.mark.django_db
def test_placement_reads_the_rules_in_one_query_and_only_when_some_exist() -> None:
    shop = f.store("10.00")
    variants = [f.variant(shop, "100.00") for _ in range(20)]
    items = [OrderItem(variant.pk, 1) for variant in variants]
    customer = UserFactory.create()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            order_create(customer_id=customer.pk, items=items, delivery_address=ADDRESS)
        return len(captured)

    without = queries()
    CommissionRule.objects.create(category=variants[0].product.category, rate=Decimal("5"))
    category_rows()  # the category tree is in the catalogue's cache, as browsing leaves it
    with_rule = queries()

    assert (without, with_rule) == (PLACEMENT_QUERIES, PLACEMENT_QUERIES + 1)
    assert OrderLine.objects.filter(commission_rate=Decimal("5.00")).count() == 1
