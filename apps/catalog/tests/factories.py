"""Catalogue test data. Products are made through the real service, so every test's
products carry variants, stock rows, ledger rows and the derived lowest price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from apps.catalog.models import Category, Product
from apps.catalog.services import product_create
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


_sku_counter = iter(range(1, 10**9))


def make_product(
    *,
    store: Store | None = None,
    category: Category | None = None,
    name: str = "Linen shirt",
    brand: str = "Adire",
    description: str = "",
    variants: list[dict[str, Any]] | None = None,
    is_active: bool = True,
) -> Product:
    """A product with variants; each variant dict may give size, colour, price, stock."""
    store = store or StoreFactory.create()
    category = category or CategoryFactory.create()
    specs = variants if variants is not None else [{}]
    full = [
        {
            "sku": spec.get("sku") or f"SKU-{next(_sku_counter)}",
            "size": spec.get("size", "M"),
            "colour": spec.get("colour", "Black"),
            "price": Decimal(str(spec.get("price", "5000.00"))),
            "stock": spec.get("stock", 5),
            **({"is_active": spec["is_active"]} if "is_active" in spec else {}),
        }
        for spec in specs
    ]
    return product_create(
        actor=None,
        store=store,
        name=name,
        category_id=category.pk,
        brand=brand,
        description=description,
        is_active=is_active,
        variants=full,
    )
