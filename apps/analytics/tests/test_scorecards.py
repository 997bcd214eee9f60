"""Vendor scorecards over the crafted history (conftest): a store's part of an order is
fulfilled when all its lines are, at the last line's time; median and 90th percentile
hours interpolate like ``percentile_cont``; the 48-hour share counts only parts that were
due; cancellation rate is over orders placed in the range; refunds are the store's share.
On PostgreSQL the database's ``percentile_cont`` and the portable window-function path
agree."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.analytics.selectors import sort_scorecards, store_scorecards
from apps.analytics.selectors.scorecards import _parts_sql, percentiles_ranked
from apps.analytics.tests.conftest import NOW, History, at
from apps.analytics.tests.factories import sold
from apps.orders.models import OrderStatus

pytestmark = pytest.mark.django_db


NOTHING_RETURNED = {"units_returned": 0, "return_rate": 0.0, "top_return_reasons": []}


def test_each_store_gets_its_scorecard(history: History) -> None:
    cards = store_scorecards(scope=history.scope(), now=NOW)

    assert cards == [
        {
            "store_id": history.store_a.pk,
            "store_name": "Adire House",
            "paid_orders": 4,  # o1, o2, o4, o5
            "fulfilled_orders": 2,  # o1 after 10 h, o5 after 30 h
            "median_hours_to_fulfil": 20.0,
            "p90_hours_to_fulfil": 28.0,  # 10 + 0.9 * (30 - 10)
            "due_orders": 3,  # o4 was refunded in full before shipping: not due
            "fulfilled_within_48h": 2,
            "fulfilled_within_48h_share": 0.6667,
            "placed_orders": 5,  # and o6, cancelled
            "cancelled_orders": 1,
            "cancellation_rate": 0.2,
            "refunded_orders": 3,  # o1 (its share of 25), o4, o5
            "refund_rate": 0.75,
            "refunded": {"NGN": "150.00"},
            "units_sold": 6,
            **NOTHING_RETURNED,
        },
        {
            "store_id": history.store_b.pk,
            "store_name": "Bella Shoes",
            "paid_orders": 3,  # o1, o9, o3
            "fulfilled_orders": 2,  # o3 after 20 h, o1 after 50 h
            "median_hours_to_fulfil": 35.0,
            "p90_hours_to_fulfil": 47.0,  # 20 + 0.9 * 30
            "due_orders": 3,
            "fulfilled_within_48h": 1,
            "fulfilled_within_48h_share": 0.3333,
            "placed_orders": 4,  # and o7, unpaid
            "cancelled_orders": 0,
            "cancellation_rate": 0.0,
            "refunded_orders": 1,
            "refund_rate": 0.3333,
            "refunded": {"NGN": "5.00"},
            "units_sold": 4,
            **NOTHING_RETURNED,
        },
    ]


def test_an_order_is_fulfilled_for_a_store_only_when_all_its_lines_are(
    history: History,
) -> None:
    """o11: two lines of store A, one shipped after 1 h, the other still open."""
    order = sold([(history.dress, 1), (history.scarf, 1)], paid_at=at(13, 9))
    order.lines.filter(variant=history.dress).update(fulfilled_at=at(13, 10))

    card = store_scorecards(scope=history.scope(store=history.store_a), now=NOW)[0]

    assert (card["paid_orders"], card["fulfilled_orders"]) == (5, 2)
    assert card["median_hours_to_fulfil"] == 20.0
    assert card["due_orders"] == 4


def test_a_part_not_yet_48_hours_old_is_not_due(history: History) -> None:
    sold([(history.shoes, 1)], paid_at=at(18, 20))

    card = store_scorecards(scope=history.scope(store=history.store_b), now=at(19, 8))[0]

    assert (card["paid_orders"], card["due_orders"]) == (4, 3)


def test_a_vendors_scope_holds_only_their_store(history: History) -> None:
    cards = store_scorecards(scope=history.scope(store=history.store_b), now=NOW)

    assert [card["store_id"] for card in cards] == [history.store_b.pk]


def test_percentiles_interpolate_between_ranks(history: History) -> None:
    """Seven more parts of store B: hours 1, 2, 3, 4, 5, 6, 7 with 20 and 50 → n = 9;
    the median is the 5th value, the 90th percentile 0.2 of the way from the 8th to the
    9th."""
    for hours in range(1, 8):
        paid = at(14, 9)
        sold(
            [(history.shoes, 1)],
            paid_at=paid,
            shipped={history.store_b.pk: paid + timedelta(hours=hours)},
        )

    card = store_scorecards(scope=history.scope(store=history.store_b), now=NOW)[0]

    assert card["median_hours_to_fulfil"] == 5.0
    assert card["p90_hours_to_fulfil"] == 26.0  # 20 + 0.2 * (50 - 20)


@pytest.mark.postgres
def test_percentile_cont_and_the_window_fallback_agree(history: History) -> None:
    for hours in (1, 3, 7, 11, 13, 17, 90):
        paid = at(15, 9)
        sold(
            [(history.dress, 1)],
            paid_at=paid,
            shipped={history.store_a.pk: paid + timedelta(hours=hours)},
        )
    cards = store_scorecards(scope=history.scope(), now=NOW)

    fallback = percentiles_ranked(_parts_sql(history.scope(), due_before=NOW))

    for card in cards:
        assert (
            round(fallback[card["store_id"]]["median"] / 3600, 2) == card["median_hours_to_fulfil"]
        )
        assert round(fallback[card["store_id"]]["p90"] / 3600, 2) == card["p90_hours_to_fulfil"]


def test_stores_with_only_placed_orders_have_empty_times(history: History) -> None:
    """o7 is store B's only order of the 9th; a report of that day alone."""
    scope = history.scope()
    one_day = type(scope)(start=at(9, 0).date(), end=at(9, 0).date(), zone_name=scope.zone_name)

    cards = store_scorecards(scope=one_day, now=NOW)

    assert [(card["store_id"], card["paid_orders"], card["placed_orders"]) for card in cards] == [
        (history.store_b.pk, 0, 1)
    ]
    assert cards[0]["median_hours_to_fulfil"] is None
    assert cards[0]["refund_rate"] is None


def test_sorting_puts_missing_figures_last(history: History) -> None:
    cards = store_scorecards(scope=history.scope(), now=NOW)
    cards.append({**cards[0], "store_id": 0, "store_name": "Zed", "median_hours_to_fulfil": None})

    by_median = [card["store_name"] for card in sort_scorecards(cards, "median_hours_to_fulfil")]
    by_median_desc = [
        card["store_name"] for card in sort_scorecards(cards, "-median_hours_to_fulfil")
    ]
    unknown = [card["store_name"] for card in sort_scorecards(cards, "no-such-key")]

    assert by_median == ["Adire House", "Bella Shoes", "Zed"]
    assert by_median_desc == ["Bella Shoes", "Adire House", "Zed"]
    assert unknown == ["Adire House", "Bella Shoes", "Zed"]


def _queries(history: History) -> int:
    with CaptureQueriesContext(connection) as queries:
        store_scorecards(scope=history.scope(), now=NOW)
    return len(queries)


def test_scorecards_cost_a_fixed_number_of_queries(history: History) -> None:
    few = _queries(history)
    for day in range(5, 18):
        paid: datetime = at(day, 15)
        sold(
            [(history.dress, 1), (history.shoes, 1)],
            paid_at=paid,
            status=OrderStatus.FULFILLED,
            shipped={history.store_a.pk: paid + timedelta(hours=day), history.store_b.pk: paid},
        )

    # With the two of the return rates.
    assert _queries(history) == few == (5 if connection.vendor == "postgresql" else 6)
