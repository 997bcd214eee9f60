"""The demo: charts for every demo store (its subcategories inherit the Women and Men
charts), answers only on delivered lines, summaries equal to the answers, product fit
pages with a signal; seeding again adds nothing."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from apps.catalog.models import Category
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.fit.demo import _charts_for_store
from apps.fit.models import FitFeedback, ProductFit, SizeChart
from apps.shipping.models import Shipment, ShipmentStatus
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_demo_charts_and_feedback_are_consistent_and_created_once() -> None:
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())
    charts, answers = SizeChart.objects.count(), FitFeedback.objects.count()
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())

    assert charts > 0 and answers > 0
    assert (SizeChart.objects.count(), FitFeedback.objects.count()) == (charts, answers)
    assert set(SizeChart.objects.filter(category=None).values_list("store_id", flat=True)) == set(
        Store.objects.filter(products__isnull=False).values_list("id", flat=True)
    )
    for feedback in FitFeedback.objects.select_related("order_line")[:200]:
        parcel = Shipment.objects.get(
            order_id=feedback.order_line.order_id, store=feedback.store, is_exchange=False
        )
        assert parcel.status == ShipmentStatus.DELIVERED
    for summary in ProductFit.objects.all():
        counted = dict(
            FitFeedback.objects.filter(product_id=summary.product_id)
            .values_list("fit")
            .annotate(n=Count("id"))
            .order_by()
        )
        assert summary.counts() == {a: counted.get(a, 0) for a in summary.counts()}
    shown = max(ProductFit.objects.all(), key=lambda summary: summary.answers)
    assert shown.answers >= 5
    body = Client().get(f"/api/v2/products/{shown.product_id}/fit/").json()
    assert body["fit"]["answers"] == shown.answers
    assert body["size_chart"] is not None


def test_a_store_with_several_shoes_of_the_same_sizes_gets_one_row_per_size() -> None:
    # Two shoe products in one store sharing their EU sizes (the full demo has many).
    shoes = CategoryFactory.create(name="Shoes")
    store = StoreFactory.create()
    for name in ("Loafer", "Sandal"):
        make_product(
            store=store,
            category=shoes,
            name=name,
            variants=[{"size": "EU 38"}, {"size": "EU 39"}],
        )
    names = {c.pk: (c.name, c.parent_id) for c in Category.objects.all()}

    _charts_for_store(store, random.Random(1), names)

    chart = SizeChart.objects.get(store=store, category=shoes)
    assert list(chart.rows.order_by("position").values_list("size", flat=True)) == [
        "EU 38",
        "EU 39",
    ]
