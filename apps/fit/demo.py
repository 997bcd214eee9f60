"""Demo size charts and fit feedback: every demo store gets a default chart, charts for
its Women and Men ranges (which their subcategories inherit), its trousers and its shoes;
customers say how the sizes of delivered demo lines fit (and size-related demo returns
count), so product pages show fit signals right away. Its own random stream; created
once."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from apps.catalog.models import APPAREL_SIZES, Product
from apps.catalog.selectors import category_rows
from apps.fit.models import FitAnswer, FitFeedback, FitSource, ProductFit, SizeChart, SizeChartRow
from apps.fit.sizes import one_decimal
from apps.orders.models import OrderLine
from apps.returns.models import SIZE_REASONS, ReturnLine, ReturnReason
from apps.shipping.models import Shipment, ShipmentStatus
from apps.vendors.models import Store

#: Share of delivered lines whose buyer says how the size fits.
ANSWER_SHARE = 0.6
#: How a product's sizes run, and how often: its buyers then answer mostly that way.
TENDENCIES = (
    (FitAnswer.TRUE_TO_SIZE, 55),
    (FitAnswer.RUNS_SMALL, 27),
    (FitAnswer.RUNS_LARGE, 18),
)
#: The answers in the order ``ANSWERS_BY_TENDENCY`` weighs them.
ANSWER_ORDER = [FitAnswer.RUNS_SMALL, FitAnswer.TRUE_TO_SIZE, FitAnswer.RUNS_LARGE]
ANSWERS_BY_TENDENCY = {
    FitAnswer.TRUE_TO_SIZE: (10, 80, 10),
    FitAnswer.RUNS_SMALL: (65, 30, 5),
    FitAnswer.RUNS_LARGE: (5, 30, 65),
}
_BASES: dict[str, dict[str, tuple[float, float]]] = {
    # measurement: (XXS, growth per size), cm
    "women": {"bust": (76, 5), "waist": (58, 5), "hips": (84, 5)},
    "men": {"chest": (84, 6), "waist": (70, 6), "neck": (35, 1.5)},
    "trousers": {"waist": (62, 5), "hips": (86, 5), "inseam": (76, 1)},
    "default": {"chest": (80, 5), "waist": (62, 5), "hips": (86, 5)},
}


def _apparel_rows(kind: str, offset: float) -> list[dict[str, Any]]:
    return [
        {
            "size": size,
            "measurements": {
                name: one_decimal(start + step * index + offset)
                for name, (start, step) in _BASES[kind].items()
            },
        }
        for index, size in enumerate(APPAREL_SIZES)
    ]


def _shoe_rows(sizes: list[str]) -> list[dict[str, Any]]:
    ordered = sorted(sizes, key=lambda size: float(size.split()[1]))
    return [
        {
            "size": size,
            "measurements": {"foot_length": one_decimal(float(size.split()[1]) * 2 / 3 - 1.5)},
        }
        for size in ordered
        if size.startswith("EU ")
    ]


def _charts_for_store(
    store: Store, rng: random.Random, names: dict[int, tuple[str, int | None]]
) -> int:
    offset = rng.choice((-2, 0, 0, 2))
    charts: list[tuple[int | None, str, str, list[dict[str, Any]]]] = [
        (None, "Standard sizes", "Body measurements in cm", _apparel_rows("default", offset))
    ]
    used = sorted(
        set(Product.objects.filter(store=store).order_by().values_list("category_id", flat=True))
    )
    roots: set[int] = set()
    for category_id in used:
        name, parent_id = names[category_id]
        if name == "Shoes":
            # A set: the products' default ordering would make DISTINCT repeat sizes.
            sizes = set(
                Product.objects.filter(store=store, category_id=category_id)
                .order_by()
                .values_list("variants__size", flat=True)
            )
            rows = _shoe_rows([size for size in sizes if size])
            if rows:
                charts.append(
                    (category_id, "Shoes", "Foot length in cm, heel to longest toe", rows)
                )
        elif name == "Trousers":
            charts.append(
                (
                    category_id,
                    "Trousers",
                    "Waist and hips at the widest; inseam to the ankle",
                    _apparel_rows("trousers", offset),
                )
            )
        elif parent_id is not None:
            roots.add(parent_id)
    for root in sorted(roots):
        kind = names[root][0].lower()
        if kind in _BASES:
            charts.append(
                (root, names[root][0], "Body measurements in cm", _apparel_rows(kind, offset))
            )
    for chart_category, name, note, rows in charts:
        chart = SizeChart.objects.create(
            store=store, category_id=chart_category, name=name, unit_note=note
        )
        SizeChartRow.objects.bulk_create(
            SizeChartRow(
                chart=chart, size=row["size"], position=index, measurements=row["measurements"]
            )
            for index, row in enumerate(rows)
        )
    return len(charts)


def _feedback(rng: random.Random) -> int:
    delivered = Shipment.objects.filter(
        order_id=OuterRef("order_id"),
        store_id=OuterRef("store_id"),
        is_exchange=False,
        status=ShipmentStatus.DELIVERED,
    )
    returned = dict(
        ReturnLine.objects.filter(reason__in=list(SIZE_REASONS)).values_list(
            "order_line_id", "reason"
        )
    )
    tendencies: dict[int, str] = {}
    answers = [answer for answer, _ in TENDENCIES]
    weights = [weight for _, weight in TENDENCIES]
    rows = []
    lines = (
        OrderLine.objects.filter(Exists(delivered))
        .order_by("id")
        .values_list("id", "order__customer_id", "variant__product_id", "store_id", "size")
    )
    for line_id, customer_id, product_id, store_id, size in lines.iterator(chunk_size=2000):
        if product_id not in tendencies:
            tendencies[product_id] = rng.choices(answers, weights)[0]
        reason = returned.get(line_id)
        if reason is not None:
            fit, source = SIZE_REASONS[ReturnReason(reason)], FitSource.RETURN
        elif rng.random() < ANSWER_SHARE:
            fit = rng.choices(ANSWER_ORDER, ANSWERS_BY_TENDENCY[FitAnswer(tendencies[product_id])])[
                0
            ]
            source = FitSource.CUSTOMER
        else:
            continue
        rows.append(
            FitFeedback(
                order_line_id=line_id,
                customer_id=customer_id,
                product_id=product_id,
                store_id=store_id,
                size=size,
                fit=fit,
                source=source,
            )
        )
    FitFeedback.objects.bulk_create(rows, batch_size=1000)
    counts: dict[int, dict[str, int]] = {}
    for product_id, fit, n in (
        FitFeedback.objects.order_by().values_list("product_id", "fit").annotate(n=Count("id"))
    ):
        counts.setdefault(product_id, {})[fit] = n
    ProductFit.objects.bulk_create(
        (ProductFit(product_id=product_id, **values) for product_id, values in counts.items()),
        batch_size=1000,
    )
    return len(rows)


@transaction.atomic
def fit_seed_demo(*, seed: int = 2026) -> tuple[int, int]:
    """Size charts for the demo stores and fit feedback on delivered demo lines; returns
    ``(charts, answers)`` created — ``(0, 0)`` when either is already there."""
    if SizeChart.objects.exists() or FitFeedback.objects.exists():
        return 0, 0
    rng = random.Random(f"{seed}-fit")
    names = {pk: (name, parent_id) for pk, name, _slug, parent_id in category_rows()}
    charts = sum(
        _charts_for_store(store, rng, names)
        for store in Store.objects.filter(products__isnull=False).distinct().order_by("id")
    )
    return charts, _feedback(rng)
