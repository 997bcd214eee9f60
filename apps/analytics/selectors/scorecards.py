"""Vendor scorecards: how fast and how reliably each store serves its paid orders.

The unit is an order's part for one store (its lines of that order). That part is
**fulfilled** once every one of those lines is, at the time of the last of them; the
time to fulfil runs from the order's ``paid_at``. Over the range's paid orders:

* median and 90th percentile of the hours to fulfil (fulfilled parts only);
* share fulfilled within 48 h, among the parts that were due: fulfilled, or still open
  48 h after payment (parts of orders refunded in full before shipping are not due);
* refund rate (parts with any refund) and the refunded amount per currency;
* cancellation rate: cancelled ÷ placed, over the orders *placed* in the range (an unpaid
  order has no payment date; expiries count as cancellations);
* return rate: units asked back ÷ units sold, and the top return reasons
  (``selectors.returns``).

The per-part rows are one grouped query; the per-store figures are aggregated over it
by the database: ``percentile_cont`` on PostgreSQL, and on other databases the two
middle rows of each store picked with window functions (``ROW_NUMBER``/``COUNT``) and
interpolated the way ``percentile_cont`` does. Either way a fixed number of queries
(three on PostgreSQL, four elsewhere), whatever the number of orders or stores.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, FloatField, Func, IntegerField, Max, Q, Sum, When
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from apps.analytics.periods import ReportScope
from apps.analytics.selectors.returns import returns_by_store
from apps.analytics.selectors.sales import SHARE, line_refund_share, money, paid_lines
from apps.orders.models import OrderLine, OrderStatus

FULFIL_WITHIN = timedelta(hours=48)
PERCENTILES = {"median": Fraction(1, 2), "p90": Fraction(9, 10)}

# Sortable scorecard columns (the admin dashboard's ``sort``): a missing value sorts last.
SORT_KEYS = (
    "store_name",
    "paid_orders",
    "median_hours_to_fulfil",
    "p90_hours_to_fulfil",
    "fulfilled_within_48h_share",
    "cancellation_rate",
    "refund_rate",
)


class SecondsBetween(Func):
    """Seconds from the second datetime to the first, as a float."""

    arity = 2
    output_field = FloatField()

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: Any, **extra: Any
    ) -> tuple[str, Any]:
        return super().as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> tuple[str, Any]:
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


def _parts_sql(scope: ReportScope, *, due_before: datetime) -> tuple[str, tuple[Any, ...]]:
    """One row per (order, store) of the range's paid orders: the store, whether its
    part is fulfilled, the seconds it took, whether within 48 h, due, refunded."""
    refunded_in_full = Case(When(order__status=OrderStatus.REFUNDED, then=1), default=0)
    parts = (
        paid_lines(scope)
        .values("order_id", "store_id")
        .annotate(
            store_name=Max("store__name"),
            open_lines=Count("pk", filter=Q(fulfilled_at__isnull=True)),
            paid=Max("order__paid_at"),
            done=Max("fulfilled_at"),
            refunded=Sum(line_refund_share(), output_field=SHARE),
            refunded_in_full=Max(refunded_in_full, output_field=IntegerField()),
        )
        .annotate(
            fulfilled=Case(When(open_lines=0, then=1), default=0),
            seconds=Case(
                When(open_lines=0, then=SecondsBetween("done", "paid")),
                default=None,
                output_field=FloatField(),
            ),
            due=Case(
                When(Q(open_lines=0) | Q(refunded_in_full=0, paid__lte=due_before), then=1),
                default=0,
            ),
            any_refund=Case(When(refunded__gt=0, then=1), default=0),
        )
        .annotate(
            within=Case(
                When(fulfilled=1, seconds__lte=FULFIL_WITHIN.total_seconds(), then=1),
                default=0,
            )
        )
    )
    sql, params = parts.query.sql_with_params()
    return sql, tuple(params)


_COUNTS = """
    SELECT store_id, MAX(store_name), COUNT(*), SUM(fulfilled), SUM(within), SUM(due),
           SUM(any_refund){percentiles}
    FROM ({parts}) parts
    GROUP BY store_id
"""
_PG_PERCENTILES = """,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)"""
# Each store's fulfilled parts ranked by time; only the rows percentile_cont would
# interpolate between are returned: 1-based ranks floor((n-1)p)+1 and the next one.
_RANKED = """
    SELECT store_id, n, rn, seconds FROM (
        SELECT store_id, seconds,
               ROW_NUMBER() OVER (PARTITION BY store_id ORDER BY seconds) AS rn,
               COUNT(*) OVER (PARTITION BY store_id) AS n
        FROM ({parts}) parts
        WHERE fulfilled = 1
    ) ranked
    WHERE rn IN ({ranks})
    ORDER BY store_id, rn
"""


def _ranks_sql() -> str:
    ranks = []
    for fraction in PERCENTILES.values():
        low = f"(n - 1) * {fraction.numerator} / {fraction.denominator}"
        ranks += [f"{low} + 1", f"{low} + 2"]
    return ", ".join(ranks)


def _fetch(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def percentiles_ranked(parts: tuple[str, tuple[Any, ...]]) -> dict[int, dict[str, float]]:
    """Per store, the median and 90th percentile of the fulfilled parts' seconds by
    window functions (portable; what other databases use instead of percentile_cont)."""
    sql, params = parts
    rows = _fetch(_RANKED.format(parts=sql, ranks=_ranks_sql()), params)
    ranked: dict[int, dict[int, float]] = {}
    counts: dict[int, int] = {}
    for store_id, n, rn, seconds in rows:
        ranked.setdefault(store_id, {})[rn] = float(seconds)
        counts[store_id] = n
    result: dict[int, dict[str, float]] = {}
    for store_id, values in ranked.items():
        n = counts[store_id]
        result[store_id] = {}
        for name, fraction in PERCENTILES.items():
            position = (n - 1) * fraction
            low = int(position)
            below = values[low + 1]
            above = values.get(low + 2, below)
            result[store_id][name] = below + float(position - low) * (above - below)
    return result


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _hours(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    return float(Decimal(str(seconds / 3600)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def store_scorecards(*, scope: ReportScope, now: datetime | None = None) -> list[dict[str, Any]]:
    """One scorecard per store with paid or placed orders in ``scope`` (only the
    scope's store when it names one), by store name."""
    moment = now or timezone.now()
    parts = _parts_sql(scope, due_before=moment - FULFIL_WITHIN)
    postgres = connection.vendor == "postgresql"
    counts = _fetch(
        _COUNTS.format(parts=parts[0], percentiles=_PG_PERCENTILES if postgres else ""),
        parts[1],
    )
    if postgres:
        percentiles = {
            row[0]: {"median": row[7], "p90": row[8]} for row in counts if row[7] is not None
        }
    else:
        percentiles = percentiles_ranked(parts)

    start, end = scope.bounds
    placed_lines = OrderLine.objects.filter(order__created_at__gte=start, order__created_at__lt=end)
    refunded_lines = paid_lines(scope)
    if scope.store_id is not None:
        placed_lines = placed_lines.filter(store_id=scope.store_id)
    placed = {
        row["store_id"]: row
        for row in placed_lines.order_by()
        .values("store_id")
        .annotate(
            store_name=Max("store__name"),
            placed=Count("order_id", distinct=True),
            cancelled=Count(
                "order_id", distinct=True, filter=Q(order__status=OrderStatus.CANCELLED)
            ),
        )
    }
    refunded: dict[int, dict[str, str]] = {}
    for row in (
        refunded_lines.values("store_id", currency=F("order__currency"))
        .annotate(amount=Sum(line_refund_share(), output_field=SHARE))
        .order_by("store_id", "currency")
    ):
        refunded.setdefault(row["store_id"], {})[row["currency"]] = money(row["amount"])

    paid = {row[0]: row for row in counts}
    returns = returns_by_store(scope)
    no_returns = {
        "units_sold": 0,
        "units_returned": 0,
        "return_rate": 0.0,
        "top_return_reasons": [],
    }
    cards = []
    for store_id in paid.keys() | placed.keys():
        _, name, paid_orders, fulfilled, within, due, any_refund = (
            paid.get(store_id) or (store_id, None, 0, 0, 0, 0, 0)
        )[:7]
        placed_row: dict[str, Any] = dict(placed.get(store_id, {}))
        times = percentiles.get(store_id, {})
        cards.append(
            {
                "store_id": store_id,
                "store_name": name or placed_row.get("store_name"),
                "paid_orders": paid_orders,
                "fulfilled_orders": int(fulfilled or 0),
                "median_hours_to_fulfil": _hours(times.get("median")),
                "p90_hours_to_fulfil": _hours(times.get("p90")),
                "due_orders": int(due or 0),
                "fulfilled_within_48h": int(within or 0),
                "fulfilled_within_48h_share": _rate(int(within or 0), int(due or 0)),
                "placed_orders": placed_row.get("placed", 0),
                "cancelled_orders": placed_row.get("cancelled", 0),
                "cancellation_rate": _rate(
                    placed_row.get("cancelled", 0), placed_row.get("placed", 0)
                ),
                "refunded_orders": int(any_refund or 0),
                "refund_rate": _rate(int(any_refund or 0), paid_orders),
                "refunded": refunded.get(store_id, {}),
                **returns.get(store_id, no_returns),
            }
        )
    return sort_scorecards(cards, "store_name")


def sort_scorecards(cards: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """``cards`` ordered by one of ``SORT_KEYS`` (``-`` first: descending); cards without
    the figure go last either way, ties by store name then id."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        key, descending = "store_name", False
    by_name = sorted(cards, key=lambda card: (str(card["store_name"] or ""), card["store_id"]))
    present = [card for card in by_name if card[key] is not None]
    missing = [card for card in by_name if card[key] is None]
    present.sort(key=lambda card: card[key], reverse=descending)
    return present + missing
