"""Sales figures over paid orders, computed by the database in a fixed number of grouped
queries (four), however many orders the range holds.

Definitions (docs/analytics.md):

* a **paid order** has been paid and not cancelled: status ``paid``, ``fulfilled``,
  ``delivered`` or ``refunded`` (a refunded order was paid first). It counts on the local
  day of its ``paid_at``. Orders awaiting payment and cancelled orders never count.
* an order's **refunds** are its payments' refunds with status ``succeeded``, at most its
  total — and all of its total once the order's status is ``refunded``. Refunds of a
  payment the order could not take (a second payment of a paid order, flagged for refund
  with a reason) return money that was never revenue and are left out. Refunds count
  against the order, in the period the order was paid.
* **net revenue** = gross revenue - refunds. Money is reported per currency (orders carry
  one currency each; amounts in different currencies are never added up).
* a store's part of an order is its lines; its part of the order's refunds is in
  proportion to its lines' share of the order total (rounded once, at the end).
* **commission** is the marketplace's part: the commission copied onto the lines when the
  order was placed, less the same share of it as the order's refunded share (a refund
  gives back its part of the commission, as in the vendor ledger); **vendor net** =
  net revenue - commission. Both rounded once, at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least, RowNumber, Trunc

from apps.analytics.periods import ReportScope, period_end
from apps.catalog.models import default_currency
from apps.orders.models import PAID_OR_LATER, Order, OrderLine, OrderStatus
from apps.payments.models import Refund, RefundStatus

PAID_STATUSES = PAID_OR_LATER
TOP = 10
CENT = Decimal("0.01")
# Sums of many amounts outgrow an order's 12 digits; shares keep more decimals until the
# end so that rounding happens once.
TOTAL = DecimalField(max_digits=20, decimal_places=2)
SHARE = DecimalField(max_digits=24, decimal_places=6)


def money(value: Decimal | float | int | None) -> str:
    """An amount as a string with two decimals (half up)."""
    return format(Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP), "f")


# --- expressions ------------------------------------------------------------------------


def _succeeded_refunds(order_id: OuterRef) -> Subquery:
    settled = (
        Refund.objects.filter(
            payment__order_id=order_id,
            status=RefundStatus.SUCCEEDED,
            payment__needs_refund_reason="",
        )
        .order_by()
        .values("payment__order_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Subquery(settled, output_field=TOTAL)


def order_refunded(prefix: str = "") -> Case:
    """The refunded part of the order whose fields are under ``prefix`` (``""`` on an
    order query, ``"order__"`` on a line query)."""
    total = F(f"{prefix}total_amount")
    order_id = OuterRef("order_id" if prefix else "pk")
    return Case(
        When(**{f"{prefix}status": OrderStatus.REFUNDED}, then=total),
        default=Least(Coalesce(_succeeded_refunds(order_id), Value(Decimal(0))), total),
        output_field=TOTAL,
    )


def line_refund_share() -> ExpressionWrapper:
    """A line's part of its order's refunds: in proportion to its share of the total."""
    return ExpressionWrapper(
        F("line_total") * order_refunded("order__") / F("order__total_amount"),
        output_field=SHARE,
    )


class _Dividend(Func):
    """A dividend that divides exactly. SQLite stores a decimal with nothing after the
    point as an integer and divides integers as integers (25 * 25 / 250 is 2 there):
    make it real on SQLite; PostgreSQL's numeric needs nothing."""

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: Any = None,
        template: Any = None,
        arg_joiner: Any = None,
        **extra: Any,
    ) -> Any:
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS REAL)", params


def line_commission_kept() -> ExpressionWrapper:
    """A line's commission less the share of it the order's refunds gave back."""
    given_back = _Dividend(F("commission_amount") * order_refunded("order__"), output_field=SHARE)
    return ExpressionWrapper(
        F("commission_amount") - given_back / F("order__total_amount"), output_field=SHARE
    )


def _commission_kept(commission: Subquery) -> ExpressionWrapper:
    """On an order query: ``commission`` (its lines' or a store's lines') less the
    order's refunded share of it."""
    given_back = _Dividend(commission * order_refunded(), output_field=SHARE)
    return ExpressionWrapper(commission - given_back / F("total_amount"), output_field=SHARE)


def _lines_of_order(field: str, store_id: int | None) -> Subquery:
    lines = OrderLine.objects.filter(order_id=OuterRef("pk"))
    if store_id is not None:
        lines = lines.filter(store_id=store_id)
    summed = lines.order_by().values("order_id").annotate(total=Sum(field)).values("total")
    money_field = field in {"line_total", "commission_amount"}
    return Subquery(summed, output_field=TOTAL if money_field else None)


# --- the two base queries ---------------------------------------------------------------


def paid_orders(scope: ReportScope) -> QuerySet[Order]:
    """Paid orders of the range (holding lines of the scope's store), each annotated with
    ``value`` (the store's lines, or the order total), ``refunded`` (the store's part) and
    ``units``."""
    start, end = scope.bounds
    orders = Order.objects.filter(
        status__in=PAID_STATUSES, paid_at__gte=start, paid_at__lt=end
    ).order_by()
    if scope.store_id is None:
        return orders.annotate(
            value=F("total_amount"),
            refunded=order_refunded(),
            units=_lines_of_order("quantity", None),
            commission=_commission_kept(_lines_of_order("commission_amount", None)),
        )
    own_lines = OrderLine.objects.filter(order_id=OuterRef("pk"), store_id=scope.store_id)
    value = _lines_of_order("line_total", scope.store_id)
    return orders.filter(Exists(own_lines)).annotate(
        value=value,
        refunded=ExpressionWrapper(
            order_refunded() * value / F("total_amount"), output_field=SHARE
        ),
        units=_lines_of_order("quantity", scope.store_id),
        commission=_commission_kept(_lines_of_order("commission_amount", scope.store_id)),
    )


def paid_lines(scope: ReportScope) -> QuerySet[OrderLine]:
    """The lines of the range's paid orders (of the scope's store)."""
    start, end = scope.bounds
    lines = OrderLine.objects.filter(
        order__status__in=PAID_STATUSES, order__paid_at__gte=start, order__paid_at__lt=end
    )
    if scope.store_id is not None:
        lines = lines.filter(store_id=scope.store_id)
    return lines.order_by()


def _money_sums() -> dict[str, Any]:
    return {
        "gross": Sum("value", output_field=TOTAL),
        "refunds": Sum("refunded", output_field=SHARE),
        "units": Sum("units"),
        "commission": Sum("commission", output_field=SHARE),
    }


def _line_sums() -> dict[str, Any]:
    return {
        "orders": Count("order_id", distinct=True),
        "units": Sum("quantity"),
        "gross": Sum("line_total", output_field=TOTAL),
        "refunds": Sum(line_refund_share(), output_field=SHARE),
        "commission": Sum(line_commission_kept(), output_field=SHARE),
    }


# --- the figures ------------------------------------------------------------------------


def _amounts(row: Mapping[str, Any]) -> dict[str, Any]:
    gross = Decimal(str(row.get("gross") or 0))
    refunds = Decimal(str(row.get("refunds") or 0)).quantize(CENT, rounding=ROUND_HALF_UP)
    commission = Decimal(str(row.get("commission") or 0)).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "orders": int(row.get("orders") or 0),
        "units_sold": int(row.get("units") or 0),
        "gross_revenue": money(gross),
        "refunds": money(refunds),
        "net_revenue": money(gross - refunds),
        "commission": money(commission),
        "vendor_net": money(gross - refunds - commission),
    }


def _totals(scope: ReportScope) -> dict[str, dict[str, Any]]:
    rows = (
        paid_orders(scope)
        .values("currency")
        .annotate(
            orders=Count("pk"),
            largest=Max("value"),
            smallest=Min("value"),
            **_money_sums(),
        )
        .order_by("currency")
    )
    totals = {}
    for values in rows:
        row: dict[str, Any] = dict(values)
        figures = _amounts(row)
        average = Decimal(str(row["gross"] or 0)) / row["orders"]
        figures.update(
            average_order_value=money(average),
            max_order_value=money(row["largest"]),
            min_order_value=money(row["smallest"]),
        )
        totals[row["currency"]] = figures
    return totals


def _series(scope: ReportScope) -> dict[tuple[str, date], dict[str, Any]]:
    period = Trunc("paid_at", scope.group_by, output_field=DateField(), tzinfo=scope.zone)
    rows = (
        paid_orders(scope)
        .annotate(period=period)
        .values("currency", "period")
        .annotate(orders=Count("pk"), **_money_sums())
        .order_by("currency", "period")
    )
    return {(row["currency"], row["period"]): _amounts(row) for row in rows}


def _ranked(rows: QuerySet[Any, Any], *tiebreak: str) -> QuerySet[Any, Any]:
    """Annotate net revenue and keep the ``TOP`` rows of each currency by it."""
    return (
        rows.annotate(net=ExpressionWrapper(F("gross") - F("refunds"), output_field=SHARE))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("currency")],
                order_by=[F("net").desc(), *(F(name).asc() for name in tiebreak)],
            )
        )
        .filter(rank__lte=TOP)
    )


def _top_products(scope: ReportScope) -> dict[str, list[dict[str, Any]]]:
    rows = _ranked(
        paid_lines(scope)
        .values(currency=F("order__currency"), product=F("variant__product_id"))
        .annotate(
            product_name=Max("variant__product__name"),
            seller=Max("store_id"),
            **_line_sums(),
        ),
        "product",
    )
    products: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda row: (row["currency"], row["rank"])):
        products.setdefault(row["currency"], []).append(
            {
                "product_id": row["product"],
                "name": row["product_name"],
                "store_id": row["seller"],
                **_amounts(row),
            }
        )
    return products


def _stores(scope: ReportScope) -> dict[str, list[dict[str, Any]]]:
    rows = (
        paid_lines(scope)
        .values("store_id", currency=F("order__currency"))
        .annotate(store_name=Max("store__name"), **_line_sums())
        .annotate(net=ExpressionWrapper(F("gross") - F("refunds"), output_field=SHARE))
        .order_by("currency", "-net", "store_id")
    )
    stores: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        stores.setdefault(row["currency"], []).append(
            {"store_id": row["store_id"], "name": row["store_name"], **_amounts(row)}
        )
    return stores


def _zero_period(start: date, group_by: str) -> dict[str, Any]:
    return {"period": start.isoformat(), "period_end": period_end(start, group_by).isoformat()}


def sales_figures(*, scope: ReportScope) -> list[dict[str, Any]]:
    """The sales of ``scope``, one entry per currency sold in (the marketplace currency
    when nothing sold): totals, the series with every period (zeros where nothing sold),
    the top products and stores by net revenue, and every store's figures — with units
    returned, return rates and the top return reasons (``selectors.returns``). Seven
    queries."""
    from apps.analytics.selectors.returns import returns_by_currency, with_returns

    totals = _totals(scope)
    series = _series(scope)
    products = _top_products(scope)
    stores = _stores(scope)
    returns = returns_by_currency(scope)
    currencies = sorted(totals) or [default_currency()]
    empty = _amounts({})
    figures: list[dict[str, Any]] = []
    for currency in currencies:
        returned: dict[str, Any] = returns.get(
            currency, {"units": 0, "products": {}, "stores": {}, "reasons": []}
        )
        by_store = [
            with_returns(store, returned["stores"].get(store["store_id"], 0))
            for store in stores.get(currency, [])
        ]
        total: dict[str, Any] = totals.get(currency) or {
            **empty,
            "average_order_value": money(0),
            "max_order_value": money(0),
            "min_order_value": money(0),
        }
        figures.append(
            {
                "currency": currency,
                "totals": {
                    **with_returns(total, returned["units"]),
                    "top_return_reasons": returned["reasons"],
                },
                "series": [
                    {
                        **_zero_period(start, scope.group_by),
                        **series.get((currency, start), empty),
                    }
                    for start in scope.periods()
                ],
                "top_products": [
                    with_returns(product, returned["products"].get(product["product_id"], 0))
                    for product in products.get(currency, [])
                ],
                "top_stores": by_store[:TOP],
                "stores": by_store,
            }
        )
    return figures
