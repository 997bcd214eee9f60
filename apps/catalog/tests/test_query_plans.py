"""On PostgreSQL, the queries the catalogue selectors send are served by the indexes made
for them: trigram indexes for text search, UPPER(brand) for the brand filter, the partial
"visible" indexes for the newest-first and price sorts (first and later pages), and
primary-key probes instead of a stock table scan for the variants.

Each test builds a catalogue big enough for the planner to prefer an index (thousands of
products, ANALYZEd), runs the selector, and EXPLAINs the SQL it actually sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Colour, Product, Variant
from apps.catalog.selectors import product_get_public, product_list_public
from apps.catalog.tests.factories import CategoryFactory
from apps.inventory.models import Stock
from apps.vendors.tests.factories import StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PRODUCTS = 4000
VARIANTS_PER_PRODUCT = 3
RARE = {7, 1777, 3333}  # the products carrying the rare brand and the rare word
WORDS = ("cotton", "linen", "silk", "wool", "denim", "print", "stripe", "classic", "summer",
         "tailored", "relaxed")  # fmt: skip


@pytest.fixture(scope="module")
def big_catalogue(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """Ids of ``PRODUCTS`` products (two thirds visible) with variants and stock, and fresh
    statistics: built once for the module inside a transaction rolled back at its end
    (each test runs in a savepoint of it)."""
    if connection.vendor != "postgresql":
        yield []
        return
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_catalogue()
        transaction.set_rollback(True)


def _build_catalogue() -> list[int]:
    stores = StoreFactory.create_batch(5)
    categories = CategoryFactory.create_batch(4)
    colours = [
        Colour.objects.get_or_create(name=name, defaults={"hex_code": "#123456"})[0]
        for name in ("Black", "Navy", "Red")
    ]
    products = []
    for index in range(PRODUCTS):
        words = " ".join(WORDS[(index + k) % len(WORDS)] for k in range(40))
        rare = index in RARE
        # About a third is hidden: off sale, or nothing for sale (no price).
        hidden = not rare and index % 3 == 1
        products.append(
            Product(
                store=stores[index % len(stores)],
                category=categories[index % len(categories)],
                name=f"{WORDS[index % len(WORDS)]} shirt {index}",
                slug=f"shirt-{index}",
                brand="Rare Label" if rare else f"Label {index % 40}",
                description=f"{words} zebrafish" if rare else words,
                is_active=not (hidden and index % 2),
                min_price=None
                if hidden and not index % 2
                else Decimal(1000 + (index * 37) % 50000),
            )
        )
    created = Product.objects.bulk_create(products)
    variants = Variant.objects.bulk_create(
        Variant(
            product=product,
            sku=f"PLAN-{product.pk}-{n}",
            size=("S", "M", "L")[n],
            colour=colours[n],
            price=(product.min_price or Decimal(500)) + n,
            is_active=product.min_price is not None,
        )
        for product in created
        for n in range(VARIANTS_PER_PRODUCT)
    )
    Stock.objects.bulk_create(Stock(variant=variant, on_hand=5) for variant in variants)
    with connection.cursor() as cursor:
        for table in ("catalog_product", "catalog_variant", "inventory_stock", "vendors_store"):
            cursor.execute(f"ANALYZE {table}")
    return [product.pk for product in created]


def _plan_nodes(sql: str) -> Iterator[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    stack = [plan]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", []))


def _sent(read: Callable[[], Any]) -> list[str]:
    """The SQL statements ``read`` sends, as PostgreSQL received them."""
    with CaptureQueriesContext(connection) as queries:
        read()
    return [query["sql"] for query in queries.captured_queries]


def _indexes(sql: str) -> set[str]:
    return {node["Index Name"] for node in _plan_nodes(sql) if "Index Name" in node}


def _seq_scanned(sql: str) -> set[str]:
    return {node["Relation Name"] for node in _plan_nodes(sql) if node["Node Type"] == "Seq Scan"}


def _product_query(read: Callable[[], Any]) -> str:
    statements = [sql for sql in _sent(read) if 'FROM "catalog_product"' in sql]
    assert len(statements) == 1, statements
    return statements[0]


def test_text_search_uses_the_trigram_indexes(big_catalogue: list[int]) -> None:
    sql = _product_query(lambda: product_list_public(q="zebrafish"))

    used = _indexes(sql)

    assert {"product_name_trgm_idx", "product_description_trgm_idx"} <= used, used
    assert "catalog_product" not in _seq_scanned(sql)
    assert len(product_list_public(q="ZebraFish")["items"]) == len(RARE)


def test_brand_filter_uses_the_upper_brand_index(big_catalogue: list[int]) -> None:
    sql = _product_query(lambda: product_list_public(brand="rare label"))

    assert "product_brand_upper_idx" in _indexes(sql)
    assert "catalog_product" not in _seq_scanned(sql)
    assert len(product_list_public(brand="RARE LABEL")["items"]) == len(RARE)


def test_default_page_walks_the_visible_newest_index(big_catalogue: list[int]) -> None:
    first = product_list_public(limit=20)

    assert "product_visible_newest_idx" in _indexes(_product_query(product_list_public))
    later = _product_query(lambda: product_list_public(limit=20, cursor=first["next"]))
    index_conditions = [
        node.get("Index Cond", "")
        for node in _plan_nodes(later)
        if node.get("Index Name") == "product_visible_newest_idx"
    ]
    assert any("created_at" in condition for condition in index_conditions), index_conditions


@pytest.mark.parametrize("sort", ["price_asc", "price_desc"])
def test_price_sorts_walk_the_visible_price_index(big_catalogue: list[int], sort: str) -> None:
    first = product_list_public(sort=sort, limit=20)

    assert "product_visible_price_idx" in _indexes(
        _product_query(lambda: product_list_public(sort=sort, limit=20))
    )
    later = _product_query(lambda: product_list_public(sort=sort, limit=20, cursor=first["next"]))
    index_conditions = [
        node.get("Index Cond", "")
        for node in _plan_nodes(later)
        if node.get("Index Name") == "product_visible_price_idx"
    ]
    assert any("min_price" in condition for condition in index_conditions), index_conditions


@pytest.mark.parametrize("page", ["list", "detail"])
def test_variant_query_probes_stock_by_primary_key(big_catalogue: list[int], page: str) -> None:
    if page == "list":
        sent = _sent(lambda: product_list_public(limit=100))
    else:
        sent = _sent(lambda: product_get_public(product_id=big_catalogue[min(RARE)]))
    variants = [sql for sql in sent if 'FROM "catalog_variant"' in sql]
    assert len(variants) == 1, sent

    assert "inventory_stock_pkey" in _indexes(variants[0])
    assert not {"inventory_stock", "catalog_variant"} & _seq_scanned(variants[0])
