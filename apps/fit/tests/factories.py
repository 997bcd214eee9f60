"""Fit test data: charts written through the service, orders placed, paid, shipped and
delivered through the real services."""

from __future__ import annotations

from typing import Any

from apps.catalog.models import Category, Colour, Product
from apps.catalog.tests.factories import make_product
from apps.fit.models import SizeChart
from apps.fit.services import size_chart_create
from apps.vendors.models import Store

ROWS: list[dict[str, Any]] = [
    {"size": "S", "measurements": {"chest": 88, "waist": 72}},
    {"size": "M", "measurements": {"chest": 96, "waist": 80}},
    {"size": "L", "measurements": {"chest": 104, "waist": 88}},
]


def make_size_chart(
    *, store: Store, category: Category | None = None, rows: list[dict[str, Any]] | None = None
) -> SizeChart:
    return size_chart_create(
        store=store,
        data={
            "category_id": category.pk if category else None,
            "name": "Tops",
            "unit_note": "Body measurements",
            "rows": rows or ROWS,
        },
    )


def sized_product(
    *, store: Store, category: Category | None = None, sizes: tuple[str, ...] = ("S", "M", "L")
) -> Product:
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    return make_product(
        store=store,
        category=category,
        variants=[{"size": size, "stock": 50} for size in sizes],
    )
