"""Compiled-once ``values()`` queries answer exactly what the ORM answers, for every
shape of arguments, and fall back to the ORM when they cannot be prepared safely."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F, QuerySet

from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import make_product
from apps.common.prepared import PreparedValues
from apps.orders.selectors import order_get_for_customer
from apps.orders.tests.factories import make_variant, place_order

pytestmark = pytest.mark.django_db


def _products(product_id: int) -> QuerySet[Any, Any]:
    return Product.objects.filter(pk=product_id, is_active=True).values(
        "id", "name", "images", "min_price", "created_at", store_name=F("store__name")
    )


def _variants(product_ids: list[int]) -> QuerySet[Any, Any]:
    return (
        Variant.objects.filter(product_id__in=product_ids)
        .order_by("id")
        .values("id", "product_id", "price", colour_name=F("colour__name"))
    )


def test_rows_equal_the_orms_for_every_argument() -> None:
    first = make_product(variants=[{"size": "S"}, {"size": "M", "price": "12.50"}])
    second = make_product(name="Second", variants=[{"size": "L"}])
    builds: list[Any] = []

    def counted(product_id: int) -> QuerySet[Any, Any]:
        builds.append(product_id)
        return _products(product_id)

    products = PreparedValues(counted)
    for product in (first, second, first):
        assert products.rows(product.pk) == list(_products(product.pk))
    assert products.rows(10**12) == []
    assert len(builds) == 1  # compiled once, with a stand-in argument
    assert builds[0] not in {first.pk, second.pk}


def test_each_list_length_is_its_own_shape() -> None:
    first = make_product(variants=[{"size": "S"}, {"size": "M"}])
    second = make_product(name="Second", variants=[{"size": "L"}])
    variants = PreparedValues(_variants)

    for ids in ([first.pk], [second.pk], [first.pk, second.pk], [second.pk, first.pk]):
        assert variants.rows(ids) == list(_variants(ids))


def test_a_builder_that_transforms_its_argument_runs_through_the_orm() -> None:
    product = make_product()
    shifted = PreparedValues(lambda product_id: _products(product_id + 1))

    assert shifted.rows(product.pk - 1) == list(_products(product.pk))
    assert shifted.rows(product.pk) == []


@pytest.mark.postgres
def test_hot_reads_run_as_server_prepared_statements_on_postgresql() -> None:
    # The order detail's reads, repeated on one connection as a worker repeats them:
    # PostgreSQL must hold them prepared (parsed and planned once), not parse each run.
    order = place_order(items=[(make_variant(), 1)])
    for _ in range(8):
        order_get_for_customer(customer_id=order.customer_id, order_id=order.pk)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any('FROM "orders_orderline"' in text for text in prepared), prepared
    assert any('FROM "shipping_shipment"' in text for text in prepared), prepared
