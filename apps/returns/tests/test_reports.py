"""Returns in the sales report: units asked back of the units sold, per product and
store, with the top reasons; rejected and withdrawn requests do not count."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from apps.analytics.periods import ReportScope
from apps.analytics.selectors import sales_figures
from apps.analytics.selectors.scorecards import store_scorecards
from apps.returns.services import return_cancel, return_reject, return_request_create
from apps.returns.tests.factories import delivered_order, line_of, parcel, two_sizes
from apps.shipping.tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_report_shows_return_rates_and_reasons() -> None:
    store, other_store = f.shop(), f.shop()
    medium, _ = two_sizes(store, stock=20)
    hat = f.variant(other_store, "3000.00")
    order = delivered_order([(medium, 4), (hat, 2)])

    def ask(variant: Any, store: Any, quantity: int, reason: str) -> Any:
        return return_request_create(
            customer_id=order.customer_id,
            shipment_id=parcel(order, store).pk,
            lines=[{"line_id": line_of(order, variant), "quantity": quantity, "reason": reason}],
        )

    ask(medium, store, 2, "not_as_pictured")
    ask(medium, store, 1, "wrong_item")
    return_reject(
        return_id=ask(hat, other_store, 1, "changed_mind").pk,
        store=other_store,
        reason="Final sale",
    )
    return_cancel(
        return_id=ask(hat, other_store, 2, "changed_mind").pk, customer_id=order.customer_id
    )

    day = timezone.localdate(order.paid_at)
    [figures] = sales_figures(scope=ReportScope(start=day, end=day))

    totals = figures["totals"]
    assert (totals["units_sold"], totals["units_returned"], totals["return_rate"]) == (
        6,
        3,
        0.5,
    )
    assert totals["top_return_reasons"] == [
        {"reason": "not_as_pictured", "units": 2},
        {"reason": "wrong_item", "units": 1},
    ]
    rates = {p["product_id"]: p["return_rate"] for p in figures["top_products"]}
    assert rates == {medium.product_id: 0.75, hat.product_id: 0.0}
    by_store = {s["store_id"]: s["units_returned"] for s in figures["stores"]}
    assert by_store == {store.pk: 3, other_store.pk: 0}
    cards = {c["store_id"]: c for c in store_scorecards(scope=ReportScope(start=day, end=day))}
    assert (cards[store.pk]["units_returned"], cards[store.pk]["return_rate"]) == (3, 0.75)
    assert cards[store.pk]["top_return_reasons"][0] == {"reason": "not_as_pictured", "units": 2}
    assert cards[other_store.pk]["return_rate"] == 0.0
