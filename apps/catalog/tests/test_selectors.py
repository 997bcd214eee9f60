"""The public catalogue reads built from flat rows: the same dicts (keys, order, types)
as reading model instances, query builders that send nothing, shapers that need no
database, and the same pages whatever the executor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Product, Variant
from apps.catalog.selectors import (
    ProductRow,
    VariantRow,
    category_rows,
    product_detail_from_rows,
    product_detail_queries,
    product_get_public,
    product_list_public,
    product_list_queries,
    product_page_split,
    product_rows_to_data,
    visible_products,
)
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.common.errors import NotFound, ValidationFailed
from apps.inventory.models import Stock
from apps.inventory.services import stock_reserve
from apps.vendors.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


# --- the reference: the same data read through model instances ------------------------


def _reference(product: Product, *, with_description: bool) -> dict[str, Any]:
    variants = []
    for variant in product.active_variants:  # type: ignore[attr-defined]
        stock = getattr(variant, "stock", None)
        available = max(stock.on_hand - stock.reserved, 0) if stock is not None else 0
        variants.append(
            {
                "id": variant.pk,
                "sku": variant.sku,
                "size": variant.size,
                "colour": variant.colour.name,
                "colour_hex": variant.colour.hex_code,
                "price": variant.price,
                "compare_at_price": variant.compare_at_price,
                "currency": variant.currency,
                "available": available,
                "in_stock": available > 0,
            }
        )
    data: dict[str, Any] = {
        "id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "brand": product.brand,
        "store": {"id": product.store.pk, "name": product.store.name, "slug": product.store.slug},
        "category": {
            "id": product.category.pk,
            "name": product.category.name,
            "slug": product.category.slug,
        },
        "images": list(product.images or []),
        "price_from": product.min_price,
        "currency": variants[0]["currency"] if variants else None,
        "in_stock": any(v["in_stock"] for v in variants),
        "created_at": product.created_at,
        "variants": variants,
    }
    if with_description:
        data["description"] = product.description
    return data


def _reference_products() -> list[Product]:
    return list(
        visible_products()
        .select_related("store", "category")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=Variant.objects.filter(is_active=True)
                .select_related("colour", "stock")
                .order_by("id"),
                to_attr="active_variants",
            )
        )
        .order_by("-created_at", "-id")
    )


def _typed(value: Any) -> Any:
    """``value`` with the type of every leaf and the order of every dict's keys."""
    if isinstance(value, dict):
        return [(key, _typed(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


@pytest.fixture
def catalogue() -> list[Product]:
    store = StoreFactory.create(name="Lagos Looks", slug="lagos-looks")
    category = CategoryFactory.create(name="Dresses", slug="dresses")
    products = [
        make_product(
            store=store,
            category=category,
            name="Adire maxi",
            description="Indigo, hand-dyed.",
            variants=[
                {"size": "S", "colour": "Navy", "price": "12500.50", "stock": 3},
                {"size": "M", "colour": "Navy", "price": "12500.50", "stock": 0},
                {"size": "L", "colour": "Red", "price": "9999.99", "is_active": False},
            ],
        ),
        make_product(name="Kaftan", brand="", variants=[{"size": "EU 42", "stock": 2}]),
        make_product(name="Scarf", variants=[{"size": "One size", "stock": 1}]),
    ]
    Product.objects.filter(pk=products[0].pk).update(images=["https://img.example/1.jpg"])
    variant = products[2].variants.get()
    stock_reserve(items=[(variant.pk, 1)], order_id=None)
    # A variant left without a stock row (as after a raw import) shows nothing available.
    Stock.objects.filter(variant__product=products[1]).delete()
    Variant.objects.filter(product=products[0], size="M").update(compare_at_price=Decimal("15000"))
    return products


def test_list_items_are_the_instance_dicts_key_for_key_and_type_for_type(
    catalogue: list[Product],
) -> None:
    expected = [_reference(p, with_description=False) for p in _reference_products()]

    items = product_list_public()["items"]

    assert _typed(items) == _typed(expected)
    first = items[-1]
    assert isinstance(first["price_from"], Decimal)
    assert isinstance(first["variants"][0]["price"], Decimal)
    assert isinstance(first["created_at"], datetime) and first["created_at"].tzinfo is not None
    assert first["images"] == ["https://img.example/1.jpg"]
    assert [v["available"] for v in first["variants"]] == [3, 0]
    assert items[1]["variants"][0]["available"] == 0  # no stock row
    assert items[0]["variants"][0]["available"] == 0  # all reserved


def test_detail_is_the_instance_dict_with_its_description(catalogue: list[Product]) -> None:
    for product in _reference_products():
        expected = _reference(product, with_description=True)

        assert _typed(product_get_public(product_id=product.pk)) == _typed(expected)


def test_builders_send_nothing_to_the_database(catalogue: list[Product]) -> None:
    categories = category_rows()

    with CaptureQueriesContext(connection) as queries:
        product_list_queries(
            categories=categories,
            category="dresses",
            store="lagos-looks",
            brand="adire",
            size="S",
            colour="navy",
            min_price=Decimal(1),
            max_price=Decimal(99999),
            q="adire maxi",
            in_stock=True,
            sort="price_asc",
        )
        product_detail_queries(catalogue[0].pk)

    assert len(queries) == 0


def test_builder_reports_the_same_errors_in_the_same_order() -> None:
    with pytest.raises(ValidationFailed) as sort_error:
        product_list_queries(sort="cheapest", category="no-such", categories=[])
    with pytest.raises(ValidationFailed) as category_error:
        product_list_queries(category="no-such", cursor="bad", categories=[])
    with pytest.raises(ValidationFailed) as cursor_error:
        product_list_queries(cursor="bad")

    assert [e.field for e in sort_error.value.field_errors] == ["sort"]
    assert [e.field for e in category_error.value.field_errors] == ["category"]
    assert [e.field for e in cursor_error.value.field_errors] == ["cursor"]


def test_a_page_composed_from_the_builders_is_the_selector_page(
    catalogue: list[Product],
) -> None:
    queries = product_list_queries(limit=2)
    page, cursor = product_page_split(
        list(queries.products), sort=queries.sort, limit=queries.limit
    )
    items = product_rows_to_data(
        page, list(queries.variants_for([row["id"] for row in page])), with_description=False
    )

    assert {"items": items, "next": cursor} == product_list_public(limit=2)
    assert cursor is not None
    assert product_list_public(limit=2, cursor=cursor)["items"][0]["name"] == "Adire maxi"


def test_detail_queries_are_independent_and_may_run_in_either_order(
    catalogue: list[Product],
) -> None:
    queries = product_detail_queries(catalogue[0].pk)

    variants = list(queries.variants)
    product = list(queries.product)

    assert product_detail_from_rows(product, variants) == product_get_public(
        product_id=catalogue[0].pk
    )


def test_hidden_or_impossible_products_are_not_found(catalogue: list[Product]) -> None:
    Product.objects.filter(pk=catalogue[0].pk).update(is_active=False)
    queries = product_detail_queries(catalogue[0].pk)

    assert list(queries.product) == []
    assert len(list(queries.variants)) == 2  # harmless: the shaper ignores them
    with pytest.raises(NotFound):
        product_detail_from_rows([], list(queries.variants))
    with pytest.raises(NotFound):
        product_detail_queries(0)
    with pytest.raises(NotFound):
        product_detail_queries(2**63)


# --- shapers on hand-made rows (no database) -------------------------------------------


def _product_row(pk: int, **extra: Any) -> ProductRow:
    return {
        "id": pk,
        "name": f"P{pk}",
        "slug": f"p{pk}",
        "brand": "",
        "images": None,
        "min_price": Decimal("10.00"),
        "created_at": datetime.fromisoformat("2026-01-02T03:04:05+00:00"),
        "store_id": 1,
        "store_name": "S",
        "store_slug": "s",
        "category_id": 2,
        "category_name": "C",
        "category_slug": "c",
        **extra,
    }


def _variant_row(pk: int, product_id: int, available: int | None) -> VariantRow:
    return {
        "id": pk,
        "product_id": product_id,
        "sku": f"SKU-{pk}",
        "size": "M",
        "price": Decimal("10.00"),
        "compare_at_price": None,
        "currency": "NGN",
        "colour_name": "Black",
        "colour_hex": "#000000",
        "available": available,
    }


@pytest.mark.django_db(False)
def test_shapers_group_variants_and_clamp_availability() -> None:
    products = [_product_row(2), _product_row(1, description="D")]
    variants = [_variant_row(10, 1, None), _variant_row(11, 2, -1), _variant_row(12, 1, 4)]

    data = product_rows_to_data(products, variants, with_description=False)

    assert [item["id"] for item in data] == [2, 1]
    assert [v["id"] for v in data[1]["variants"]] == [10, 12]
    assert [v["available"] for v in data[1]["variants"]] == [0, 4]
    assert data[0]["variants"][0]["available"] == 0
    assert (data[0]["in_stock"], data[1]["in_stock"]) == (False, True)
    assert data[1]["images"] == []
    assert "description" not in data[1]
    assert product_detail_from_rows(products[1:], variants)["description"] == "D"


@pytest.mark.django_db(False)
def test_page_split_makes_a_cursor_only_when_a_row_is_left_over() -> None:
    rows = [_product_row(3), _product_row(2), _product_row(1)]

    assert product_page_split(rows[:2], sort="newest", limit=2) == (rows[:2], None)
    page, cursor = product_page_split(rows, sort="price_asc", limit=2)
    assert page == rows[:2]
    assert cursor is not None
