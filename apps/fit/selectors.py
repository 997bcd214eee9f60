"""Reads on size and fit: the chart that applies to a product, a product's fit signal,
size advice from a customer's kept purchases, and products whose fit stands out."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.catalog.models import Variant
from apps.catalog.selectors import category_rows, visible_products
from apps.common.errors import NotFound
from apps.fit.models import FitAnswer, ProductFit, SizeChart
from apps.fit.sizes import SHOE_SIZES, inches, shift_size, shoe_size_table
from apps.orders.models import OrderLine
from apps.returns.models import OPEN_STATUSES, ReturnLine
from apps.shipping.models import Shipment, ShipmentStatus

#: Kept purchases needed (in the same category: of the store, else of any store) before
#: a size is advised.
ADVICE_MIN_KEPT = 2

_WORDS = {
    FitAnswer.RUNS_SMALL: "runs small",
    FitAnswer.TRUE_TO_SIZE: "is true to size",
    FitAnswer.RUNS_LARGE: "runs large",
}


def signal_min_answers() -> int:
    return int(getattr(settings, "FIT_SIGNAL_MIN_ANSWERS", 5))


# --- size charts ---------------------------------------------------------------------------


def size_charts_for_store(*, store_id: int) -> QuerySet[SizeChart]:
    """The store's charts, the default first, with their rows."""
    return (
        SizeChart.objects.filter(store_id=store_id)
        .select_related("category")
        .prefetch_related("rows")
        .order_by(Coalesce("category_id", Value(0)), "id")
    )


def size_chart_get(*, store_id: int, chart_id: int) -> SizeChart:
    """One of the store's charts; another store's or a missing one raises ``NotFound``."""
    chart = None
    if 0 < chart_id < 2**63:
        chart = size_charts_for_store(store_id=store_id).filter(pk=chart_id).first()
    if chart is None:
        raise NotFound("Size chart not found.", code="size_chart_not_found")
    return chart


def size_chart_data(chart: SizeChart, *, applies: str | None = None) -> dict[str, Any]:
    """A chart with each measurement in cm and in inches (one decimal), and the EU / UK /
    US shoe table when it measures feet or lists shoe sizes."""
    rows = []
    names: list[str] = []
    shoes = False
    for row in chart.rows.all():
        shoes = shoes or row.size in SHOE_SIZES
        measurements = []
        for name, cm in row.measurements.items():
            if name not in names:
                names.append(name)
            measurements.append({"name": name, "cm": float(cm), "inches": inches(cm)})
        rows.append({"size": row.size, "measurements": measurements})
    data: dict[str, Any] = {
        "id": chart.pk,
        "name": chart.name,
        "category_id": chart.category_id,
        "unit_note": chart.unit_note,
        "measurements": names,
        "rows": rows,
        "shoe_sizes": shoe_size_table() if shoes or "foot_length" in names else None,
        "created_at": chart.created_at,
        "updated_at": chart.updated_at,
    }
    if applies is not None:
        data["applies"] = applies
    return data


def size_chart_for(*, store_id: int, category_id: int) -> tuple[SizeChart, str] | None:
    """The store's chart for the category, else for its nearest ancestor, else the
    store's default: ``(chart, "category" | "ancestor" | "default")``, or None."""
    charts: dict[int | None, int] = {
        category: pk
        for category, pk in SizeChart.objects.filter(store_id=store_id).values_list(
            "category_id", "id"
        )
    }
    if not charts:
        return None
    parents = {pk: parent_id for pk, _name, _slug, parent_id in category_rows()}
    found: tuple[int, str] | None = None
    current: int | None = category_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current in charts:
            found = (charts[current], "category" if current == category_id else "ancestor")
            break
        seen.add(current)
        current = parents.get(current)
    if found is None and None in charts:
        found = (charts[None], "default")
    if found is None:
        return None
    chart = SizeChart.objects.prefetch_related("rows").get(pk=found[0])
    return chart, found[1]


# --- the fit signal --------------------------------------------------------------------------


def fit_signal_from_counts(counts: dict[str, int]) -> dict[str, Any] | None:
    """The signal from a product's answer counts: None below ``FIT_SIGNAL_MIN_ANSWERS``
    answers. ``verdict`` is the answer with strictly the most votes (a tie: true to
    size, nothing to adjust)."""
    answers = sum(counts.values())
    if answers < signal_min_answers() or answers == 0:
        return None
    percent = {answer: round(100 * counts.get(answer, 0) / answers) for answer in FitAnswer.values}
    ranked = sorted(FitAnswer.values, key=lambda answer: counts.get(answer, 0), reverse=True)
    top = ranked[0]
    if counts.get(top, 0) == counts.get(ranked[1], 0):
        top = FitAnswer.TRUE_TO_SIZE
    summary = f"{percent[top]} % say it {_WORDS[FitAnswer(top)]} ({answers} answers)"
    return {
        "answers": answers,
        "counts": {answer: counts.get(answer, 0) for answer in FitAnswer.values},
        "percent": percent,
        "verdict": top,
        "summary": summary,
    }


def fit_signal(*, product_id: int) -> dict[str, Any] | None:
    """The product's fit signal (one primary-key read of its summary), or None."""
    summary = ProductFit.objects.filter(pk=product_id).first()
    return fit_signal_from_counts(summary.counts()) if summary is not None else None


# --- size advice ---------------------------------------------------------------------------


def kept_purchases(*, customer_id: int, category_id: int) -> list[dict[str, Any]]:
    """The customer's lines in the category whose parcel was delivered, less the units
    asked back in returns: ``[{store_id, size, kept}]`` with ``kept > 0``."""
    delivered = Shipment.objects.filter(
        order_id=OuterRef("order_id"),
        store_id=OuterRef("store_id"),
        is_exchange=False,
        status=ShipmentStatus.DELIVERED,
    )
    returned = (
        ReturnLine.objects.filter(order_line_id=OuterRef("pk"), request__status__in=OPEN_STATUSES)
        .order_by()
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    rows = (
        OrderLine.objects.filter(
            Exists(delivered),
            order__customer_id=customer_id,
            variant__product__category_id=category_id,
        )
        .annotate(returned=Coalesce(Subquery(returned, output_field=IntegerField()), Value(0)))
        .values("store_id", "size", "quantity", "returned")
    )
    return [
        {
            "store_id": row["store_id"],
            "size": row["size"],
            "kept": row["quantity"] - row["returned"],
        }
        for row in rows
        if row["quantity"] > row["returned"]
    ]


def _no_advice(reason: str, basis: str | None = None) -> dict[str, Any]:
    return {"size": None, "reason": reason, "basis": basis, "usual_size": None, "adjusted": False}


def size_advice(
    *,
    customer_id: int,
    store_id: int,
    category_id: int,
    category_name: str,
    offered: list[str],
    signal: dict[str, Any] | None,
) -> dict[str, Any]:
    """A size for the customer from the sizes they kept in this category — of this store
    when they kept at least ``ADVICE_MIN_KEPT`` there, else of any store — moved one size
    up when the product's signal says it runs small, down when it runs large. No size
    (``size`` null, with the reason) when there is too little or conflicting history, or
    the size is not offered."""
    kept = kept_purchases(customer_id=customer_id, category_id=category_id)
    here = [row for row in kept if row["store_id"] == store_id]
    if len(here) >= ADVICE_MIN_KEPT:
        basis, rows, where = "store", here, f"{category_name} from this store"
    elif len(kept) >= ADVICE_MIN_KEPT:
        basis, rows, where = "category", kept, f"{category_name} from any store"
    else:
        return _no_advice(
            f"Too little history: size advice needs at least {ADVICE_MIN_KEPT} kept purchases "
            f"in {category_name}; you have {len(kept)}."
        )
    units: Counter[str] = Counter()
    for row in rows:
        units[row["size"]] += row["kept"]
    ranked = units.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        sizes = ", ".join(size for size, count in ranked if count == ranked[0][1])
        return _no_advice(f"You kept different sizes equally often ({sizes}) in {where}.", basis)
    usual = ranked[0][0]
    reason = f"You kept {usual} in {len(rows)} purchases of {where}"
    size: str | None = usual
    adjusted = False
    if signal is not None and signal["verdict"] != FitAnswer.TRUE_TO_SIZE:
        step = 1 if signal["verdict"] == FitAnswer.RUNS_SMALL else -1
        direction = "up" if step > 0 else "down"
        reason += f"; {signal['summary']}, so one size {direction}"
        size = shift_size(usual, step)
        adjusted = True
        if size is None:
            reason += f", and there is no size {direction} from {usual}"
    if size is None or size not in offered:
        if size is not None:
            reason += f"; {size} is not offered for this product"
        return {**_no_advice(reason + ".", basis), "usual_size": usual, "adjusted": adjusted}
    return {
        "size": size,
        "reason": reason + ".",
        "basis": basis,
        "usual_size": usual,
        "adjusted": adjusted,
    }


# --- the product's fit page ---------------------------------------------------------------------


def product_fit_public(*, product_id: int, customer_id: int | None) -> dict[str, Any]:
    """A visible product's size chart (with inches), fit signal and, for a signed-in
    customer, size advice. Raises ``NotFound`` for an unknown or hidden product."""
    product = None
    if 0 < product_id < 2**63:
        product = (
            visible_products()
            .filter(pk=product_id)
            .values("id", "store_id", "category_id", "category__name")
            .first()
        )
    if product is None:
        raise NotFound("Product not found.", code="product_not_found")
    resolved = size_chart_for(store_id=product["store_id"], category_id=product["category_id"])
    signal = fit_signal(product_id=product_id)
    advice = None
    if customer_id is not None:
        offered = list(
            Variant.objects.filter(product_id=product_id, is_active=True)
            .order_by()
            .values_list("size", flat=True)
            .distinct()
        )
        advice = size_advice(
            customer_id=customer_id,
            store_id=product["store_id"],
            category_id=product["category_id"],
            category_name=product["category__name"],
            offered=offered,
            signal=signal,
        )
    return {
        "product_id": product_id,
        "size_chart": size_chart_data(resolved[0], applies=resolved[1]) if resolved else None,
        "fit": signal,
        "min_answers": signal_min_answers(),
        "advice": advice,
    }


# --- analytics ---------------------------------------------------------------------------------


def fit_outliers(
    *,
    min_answers: int | None = None,
    min_excess: int = 15,
) -> list[dict[str, Any]]:
    """Products whose share of size answers (``runs_small`` + ``runs_large``, from
    customers and from size-related returns) is at least ``min_excess`` percentage points
    above their category's, among products with at least ``min_answers`` answers
    (``FIT_SIGNAL_MIN_ANSWERS`` by default); the largest excess first."""
    needed = min_answers if min_answers is not None else signal_min_answers()
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in ProductFit.objects.values(
        "product__category_id", "runs_small", "true_to_size", "runs_large"
    ).iterator():
        off = row["runs_small"] + row["runs_large"]
        bucket = totals[row["product__category_id"]]
        bucket[0] += off
        bucket[1] += off + row["true_to_size"]
    candidates = ProductFit.objects.annotate(
        total=F("runs_small") + F("true_to_size") + F("runs_large")
    ).filter(total__gte=max(needed, 1))
    items: list[dict[str, Any]] = []
    for summary in candidates.select_related("product__category", "product__store"):
        answers = summary.answers
        product_share = 100 * (summary.runs_small + summary.runs_large) / answers
        off, total = totals[summary.product.category_id]
        category_share = 100 * off / total if total else 0.0
        excess = product_share - category_share
        if excess < min_excess:
            continue
        items.append(
            {
                "product_id": summary.product_id,
                "product_name": summary.product.name,
                "store_id": summary.product.store_id,
                "store_name": summary.product.store.name,
                "category_id": summary.product.category_id,
                "category_name": summary.product.category.name,
                "answers": answers,
                "runs_small": summary.runs_small,
                "true_to_size": summary.true_to_size,
                "runs_large": summary.runs_large,
                "size_share": round(product_share, 1),
                "category_size_share": round(category_share, 1),
                "excess": round(excess, 1),
            }
        )
    items.sort(key=lambda item: (-float(item["excess"]), -int(item["answers"]), item["product_id"]))
    return items


def order_line_of_order(*, customer_id: int, order_id: int, line_id: int) -> None:
    """Raises ``NotFound`` unless ``line_id`` is a line of the customer's order."""
    found = (
        0 < order_id < 2**63
        and 0 < line_id < 2**63
        and OrderLine.objects.filter(
            pk=line_id, order_id=order_id, order__customer_id=customer_id
        ).exists()
    )
    if not found:
        raise NotFound("Order line not found.", code="order_line_not_found")
