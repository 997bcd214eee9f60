"""The crafted sales history the analytics tests compute by hand.

The marketplace runs on Lagos time (UTC+1) here, so that local days and UTC days differ.
Range: Monday 5 to Sunday 18 January 2026. Two stores: A sells a dress (100.00) and a
scarf (20.00), B sells shoes (50.00). Local times:

order  lines                      paid (local time)           status     counted
o1     2 dress + 1 shoes = 250    Mon 5, 10:00                fulfilled  yes
o9     1 shoes = 50               Mon 5, 00:30 (Sun 4 in UTC) paid       yes
o2     1 scarf = 20               Tue 6, 23:59                paid       yes
o3     2 shoes = 100              Wed 7, 00:01 (Tue 6 in UTC) delivered  yes
o4     1 dress = 100              Sun 11, 23:59               refunded   yes
o5     1 dress + 1 scarf = 120    Mon 12, 00:01               fulfilled  yes
o6     1 dress                    -                           cancelled  no
o7     1 shoes                    -                           unpaid     no
o8     1 shoes                    Sun 4, 23:59                paid       no (before)
o10    1 shoes                    Mon 19, 00:01               paid       no (after)

Refunds: o1 25 succeeded (and 250 of a second payment flagged for refund: not counted);
o4 refunded in full (and a succeeded refund row of 100: not counted twice); o5 30
succeeded (10 failed and 5 pending: not counted); o6 100 (cancelled: not counted).
Fulfilment (hours after payment): o1 A +10, B +50; o3 B +20; o5 A +30.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.analytics.periods import ReportScope
from apps.analytics.tests.factories import refund, sold
from apps.catalog.models import Variant
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import make_variant
from apps.payments.models import RefundStatus
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory

LAGOS = ZoneInfo("Africa/Lagos")
START, END = date(2026, 1, 5), date(2026, 1, 18)
# "Now" for the scorecards: every part paid in the range is long past its 48 hours.
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=LAGOS)


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LAGOS)


@dataclass
class History:
    store_a: Store
    store_b: Store
    dress: Variant
    scarf: Variant
    shoes: Variant
    orders: dict[str, Order]

    def scope(self, group_by: str = "day", store: Store | None = None) -> ReportScope:
        return ReportScope(
            start=START,
            end=END,
            store_id=store.pk if store else None,
            group_by=group_by,
            zone_name="Africa/Lagos",
        )


@pytest.fixture(autouse=True)
def lagos_time(settings: Any) -> None:
    settings.TIME_ZONE = "Africa/Lagos"


def _sold(items: list[tuple[Variant, int]], paid: datetime | None, **fields: Any) -> Order:
    created = fields.pop("created", None) or (paid or at(8, 12)) - timedelta(minutes=5)
    return sold(items, paid_at=paid, created_at=created, **fields)


def build_history() -> History:
    store_a = StoreFactory.create(name="Adire House")
    store_b = StoreFactory.create(name="Bella Shoes")
    dress = make_variant(store=store_a, price="100.00", stock=1000)
    scarf = make_variant(store=store_a, price="20.00", stock=1000)
    shoes = make_variant(store=store_b, price="50.00", stock=1000)
    a, b = store_a.pk, store_b.pk
    paid_o1 = at(5, 10)
    orders = {
        "o1": _sold(
            [(dress, 2), (shoes, 1)],
            paid_o1,
            status=OrderStatus.FULFILLED,
            shipped={a: paid_o1 + timedelta(hours=10), b: paid_o1 + timedelta(hours=50)},
        ),
        "o9": _sold([(shoes, 1)], at(5, 0, 30)),
        "o2": _sold([(scarf, 1)], at(6, 23, 59)),
        "o3": _sold(
            [(shoes, 2)],
            at(7, 0, 1),
            status=OrderStatus.DELIVERED,
            shipped={b: at(7, 0, 1) + timedelta(hours=20)},
        ),
        "o4": _sold([(dress, 1)], at(11, 23, 59), status=OrderStatus.REFUNDED),
        "o5": _sold(
            [(dress, 1), (scarf, 1)],
            at(12, 0, 1),
            status=OrderStatus.FULFILLED,
            shipped={a: at(12, 0, 1) + timedelta(hours=30)},
        ),
        "o6": _sold([(dress, 1)], None, status=OrderStatus.CANCELLED, created=at(8, 12)),
        "o7": _sold([(shoes, 1)], None, status=OrderStatus.PENDING_PAYMENT, created=at(9, 12)),
        "o8": _sold([(shoes, 1)], at(4, 23, 59)),
        "o10": _sold([(shoes, 1)], at(19, 0, 1), created=at(19, 0, 0)),
    }
    refund(orders["o1"], "25.00")
    refund(orders["o1"], "250.00", flagged_reason="order_already_paid")
    refund(orders["o4"], "100.00")
    refund(orders["o5"], "30.00")
    refund(orders["o5"], "10.00", status=RefundStatus.FAILED)
    refund(orders["o5"], "5.00", status=RefundStatus.PENDING)
    refund(orders["o6"], "100.00", flagged_reason="order_cancelled")
    return History(store_a, store_b, dress, scarf, shoes, orders)


@pytest.fixture
def history(db: None) -> History:
    return build_history()
