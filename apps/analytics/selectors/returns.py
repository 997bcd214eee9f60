"""Returns in the reports: of the units sold in a report's range (its paid orders), how
many were asked back — in requests that hold units: asked, approved, received, closed;
rejected, withdrawn and expired ones do not count — per currency, product and store,
and the top reasons. Three grouped queries, whatever the number of orders."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, QuerySet, Sum

from apps.analytics.periods import ReportScope
from apps.analytics.selectors.sales import paid_lines
from apps.returns.models import OPEN_STATUSES, ReturnLine

TOP_REASONS = 3


def _returned(scope: ReportScope) -> QuerySet[ReturnLine]:
    return ReturnLine.objects.filter(
        request__status__in=OPEN_STATUSES,
        order_line_id__in=paid_lines(scope).values("pk"),
    ).order_by()


def return_rate(returned: int, sold: int) -> float:
    """Returned ÷ sold, to four decimals (0.0625), like the scorecards' other rates; 0.0
    when nothing sold."""
    return round(returned / sold, 4) if sold else 0.0


def returns_by_currency(scope: ReportScope) -> dict[str, dict[str, Any]]:
    """Per currency: units returned by product and by store, and the top reasons."""
    currency = F("order_line__order__currency")
    figures: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"units": 0, "products": {}, "stores": {}, "reasons": []}
    )
    for row in (
        _returned(scope)
        .values("reason", currency=currency)
        .annotate(units=Sum("quantity"))
        .order_by("currency", "-units", "reason")
    ):
        entry = figures[row["currency"]]
        entry["units"] += row["units"]
        if len(entry["reasons"]) < TOP_REASONS:
            entry["reasons"].append({"reason": row["reason"], "units": row["units"]})
    for key, field in (
        ("products", "order_line__variant__product_id"),
        ("stores", "order_line__store_id"),
    ):
        for part in (
            _returned(scope)
            .values(currency=currency, owner=F(field))
            .annotate(units=Sum("quantity"))
            .order_by()
        ):
            figures[part["currency"]][key][part["owner"]] = part["units"]
    return dict(figures)


def with_returns(entry: dict[str, Any], returned: int) -> dict[str, Any]:
    """``entry`` (with ``units_sold``) and its units returned and return rate."""
    return {
        **entry,
        "units_returned": returned,
        "return_rate": return_rate(returned, entry.get("units_sold", 0)),
    }


def returns_by_store(scope: ReportScope) -> dict[int, dict[str, Any]]:
    """Per store: units sold and returned, the return rate and the top reasons (for the
    scorecards). Two grouped queries."""
    sold = dict(
        paid_lines(scope)
        .values("store_id")
        .annotate(units=Sum("quantity"))
        .values_list("store_id", "units")
    )
    returned: dict[int, int] = defaultdict(int)
    reasons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        _returned(scope)
        .values("reason", store=F("order_line__store_id"))
        .annotate(units=Sum("quantity"))
        .order_by("store", "-units", "reason")
    ):
        returned[row["store"]] += row["units"]
        if len(reasons[row["store"]]) < TOP_REASONS:
            reasons[row["store"]].append({"reason": row["reason"], "units": row["units"]})
    return {
        store_id: {
            "units_sold": units,
            "units_returned": returned.get(store_id, 0),
            "return_rate": return_rate(returned.get(store_id, 0), units),
            "top_return_reasons": reasons.get(store_id, []),
        }
        for store_id, units in sold.items()
    }
