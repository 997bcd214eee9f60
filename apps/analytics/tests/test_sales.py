"""Sales figures over the crafted history (conftest), computed by hand: only paid orders
count, on the local day they were paid; refunds are netted (succeeded ones only, never
twice, never those of a payment the order could not take); every period of the range is
there, zeros included; weeks start on Monday; a store's report holds only its lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from apps.analytics.periods import ReportScope, period_starts
from apps.analytics.selectors import sales_figures
from apps.analytics.tests.conftest import END, START, History, at
from apps.analytics.tests.factories import sold
from apps.orders.models import Order
from apps.orders.tests.factories import make_variant

pytestmark = pytest.mark.django_db


def _only(figures: list[dict[str, Any]]) -> dict[str, Any]:
    assert [entry["currency"] for entry in figures] == ["NGN"]
    return figures[0]


def _point(orders: int, units: int, gross: str, refunds: str, net: str) -> dict[str, Any]:
    # Every store of the history keeps the default 10 % commission: the marketplace's
    # part is a tenth of the net revenue (a refund gives back its share of commission).
    commission = Decimal(net) / 10
    return {
        "orders": orders,
        "units_sold": units,
        "gross_revenue": gross,
        "refunds": refunds,
        "net_revenue": net,
        "commission": f"{commission:.2f}",
        "vendor_net": f"{Decimal(net) - commission:.2f}",
    }


ZERO = _point(0, 0, "0.00", "0.00", "0.00")
NOTHING_RETURNED = {"units_returned": 0, "return_rate": 0.0}


def test_totals_count_paid_orders_and_net_the_refunds(history: History) -> None:
    figures = _only(sales_figures(scope=history.scope()))

    assert figures["totals"] == {
        **_point(6, 10, "640.00", "155.00", "485.00"),
        "average_order_value": "106.67",
        "max_order_value": "250.00",
        "min_order_value": "20.00",
        **NOTHING_RETURNED,
        "top_return_reasons": [],
    }


def test_the_daily_series_puts_orders_on_their_local_day_and_fills_empty_days(
    history: History,
) -> None:
    figures = _only(sales_figures(scope=history.scope("day")))

    series = figures["series"]
    assert [point["period"] for point in series] == [
        date(2026, 1, day).isoformat() for day in range(5, 19)
    ]
    assert all(point["period"] == point["period_end"] for point in series)
    expected = {
        "2026-01-05": _point(2, 4, "300.00", "25.00", "275.00"),  # o1, o9 (00:30 local)
        "2026-01-06": _point(1, 1, "20.00", "0.00", "20.00"),  # o2 at 23:59
        "2026-01-07": _point(1, 2, "100.00", "0.00", "100.00"),  # o3 at 00:01
        "2026-01-11": _point(1, 1, "100.00", "100.00", "0.00"),  # o4, refunded in full
        "2026-01-12": _point(1, 2, "120.00", "30.00", "90.00"),  # o5
    }
    for point in series:
        values = {key: value for key, value in point.items() if key not in {"period", "period_end"}}
        assert values == expected.get(point["period"], ZERO), point["period"]


def test_weeks_start_on_monday(history: History) -> None:
    figures = _only(sales_figures(scope=history.scope("week")))

    assert figures["series"] == [
        {
            "period": "2026-01-05",
            "period_end": "2026-01-11",
            **_point(5, 8, "520.00", "125.00", "395.00"),
        },
        {
            "period": "2026-01-12",
            "period_end": "2026-01-18",
            **_point(1, 2, "120.00", "30.00", "90.00"),
        },
    ]


def test_months_are_calendar_months(history: History) -> None:
    figures = _only(sales_figures(scope=history.scope("month")))

    assert figures["series"] == [
        {
            "period": "2026-01-01",
            "period_end": "2026-01-31",
            **_point(6, 10, "640.00", "155.00", "485.00"),
        }
    ]


def test_a_partial_week_is_labelled_by_its_monday_and_counts_only_the_range() -> None:
    assert period_starts(date(2026, 1, 7), date(2026, 1, 13), "week") == [
        date(2026, 1, 5),
        date(2026, 1, 12),
    ]
    assert period_starts(date(2025, 11, 30), date(2026, 2, 1), "month") == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_top_products_and_stores_rank_by_net_revenue(history: History) -> None:
    figures = _only(sales_figures(scope=history.scope()))

    fields = ("product_id", "store_id", "orders", "units_sold", "gross_revenue", "refunds")
    products = [
        tuple(row[field] for field in (*fields, "net_revenue")) for row in figures["top_products"]
    ]
    assert products == [
        (history.dress.product_id, history.store_a.pk, 3, 4, "400.00", "145.00", "255.00"),
        (history.shoes.product_id, history.store_b.pk, 3, 4, "200.00", "5.00", "195.00"),
        (history.scarf.product_id, history.store_a.pk, 2, 2, "40.00", "5.00", "35.00"),
    ]
    stores = [
        {"store_id": history.store_a.pk, "name": "Adire House"}
        | _point(4, 6, "440.00", "150.00", "290.00")
        | NOTHING_RETURNED,
        {"store_id": history.store_b.pk, "name": "Bella Shoes"}
        | _point(3, 4, "200.00", "5.00", "195.00")
        | NOTHING_RETURNED,
    ]
    assert figures["top_stores"] == stores
    assert figures["stores"] == stores


def test_a_stores_report_holds_only_its_part_of_each_order(history: History) -> None:
    figures = _only(sales_figures(scope=history.scope("week", store=history.store_a)))

    assert figures["totals"] == {
        **_point(4, 6, "440.00", "150.00", "290.00"),
        "average_order_value": "110.00",
        "max_order_value": "200.00",  # o1's dresses, not o1's total
        "min_order_value": "20.00",
        **NOTHING_RETURNED,
        "top_return_reasons": [],
    }
    assert [point["net_revenue"] for point in figures["series"]] == ["200.00", "90.00"]
    assert {row["product_id"] for row in figures["top_products"]} == {
        history.dress.product_id,
        history.scarf.product_id,
    }
    assert [row["store_id"] for row in figures["stores"]] == [history.store_a.pk]


def test_local_days_decide_what_falls_in_the_range(history: History, settings: Any) -> None:
    """The same orders read as UTC days: o9 (00:30 Lagos on the 5th) falls on the 4th, out
    of the range; o3 and o5 (00:01 Lagos) move to the day before; o10 (00:01 Lagos on the
    19th) falls on the 18th, into the range."""
    utc = ReportScope(start=START, end=END, group_by="day", zone_name="UTC")

    figures = _only(sales_figures(scope=utc))

    by_day = {point["period"]: point["orders"] for point in figures["series"] if point["orders"]}
    assert by_day == {"2026-01-05": 1, "2026-01-06": 2, "2026-01-11": 2, "2026-01-18": 1}


def test_an_empty_range_reports_zeros_in_the_marketplace_currency() -> None:
    scope = ReportScope(start=date(2026, 3, 1), end=date(2026, 3, 3), zone_name="Africa/Lagos")

    figures = _only(sales_figures(scope=scope))

    assert figures["totals"]["orders"] == 0
    assert figures["totals"]["net_revenue"] == "0.00"
    assert [point["orders"] for point in figures["series"]] == [0, 0, 0]
    assert figures["top_products"] == figures["stores"] == []


def test_orders_in_other_currencies_are_reported_apart() -> None:
    naira, dollars = make_variant(price="100.00"), make_variant(price="30.00")
    dollars.currency = "USD"
    dollars.save(update_fields=["currency"])
    sold([(naira, 1)], paid_at=at(6, 12))
    sold([(dollars, 2)], paid_at=at(6, 12))
    scope = ReportScope(start=START, end=END, zone_name="Africa/Lagos")

    figures = sales_figures(scope=scope)

    assert [entry["currency"] for entry in figures] == ["NGN", "USD"]
    assert [entry["totals"]["gross_revenue"] for entry in figures] == ["100.00", "60.00"]
    assert Order.objects.filter(currency="USD").count() == 1
