"""v1: a vendor's size charts (CRUD, every bad field named, another store's 404) and the
staff list of products whose fit stands out from their category."""

from __future__ import annotations

from typing import Any

import pytest

from apps.catalog.tests.factories import CategoryFactory
from apps.common.tests.api_clients import post_json, problem_fields, signed_in
from apps.fit.services import fit_feedback_record
from apps.fit.tests.factories import ROWS, make_size_chart, sized_product
from apps.returns.tests.factories import delivered_order
from apps.vendors.tests.factories import StaffFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

CHARTS = "/api/v1/vendor/size-charts/"
OUTLIERS = "/api/v1/staff/fit/outliers/"


def test_a_vendor_manages_their_size_charts() -> None:
    store = StoreFactory.create()
    category = CategoryFactory.create()
    vendor = signed_in(store.owner)

    created = post_json(
        vendor,
        CHARTS,
        {"category_id": category.pk, "name": "Shirts", "unit_note": "Body, cm", "rows": ROWS},
    )
    assert created.status_code == 201, created.content
    chart = created.json()
    assert chart["measurements"] == ["chest", "waist"]
    assert chart["rows"][1]["measurements"][0] == {"name": "chest", "cm": 96.0, "inches": 37.8}

    changed = vendor.patch(
        f"{CHARTS}{chart['id']}/",
        {"rows": [{"size": "XL", "measurements": {"chest": "112.5"}}]},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Shirts"
    assert changed.json()["rows"] == [
        {"size": "XL", "measurements": [{"name": "chest", "cm": 112.5, "inches": 44.3}]}
    ]
    assert [c["id"] for c in vendor.get(CHARTS).json()["results"]] == [chart["id"]]
    assert vendor.delete(f"{CHARTS}{chart['id']}/").status_code == 204
    assert vendor.get(f"{CHARTS}{chart['id']}/").status_code == 404


def test_every_bad_field_of_a_chart_is_named() -> None:
    store = StoreFactory.create()
    taken = CategoryFactory.create()
    make_size_chart(store=store, category=taken)
    vendor = signed_in(store.owner)

    response = post_json(
        vendor,
        CHARTS,
        {
            "category_id": taken.pk,
            "name": "x" * 81,
            "rows": [
                {"size": "M", "measurements": {"chest": -1, "wingspan": 180}},
                {"size": "M", "measurements": {"waist": 80}},
                {"size": "HUGE", "measurements": {"hips": "abc"}},
            ],
        },
    )

    assert response.status_code == 422
    assert set(problem_fields(response)) == {
        "category_id",
        "name",
        "rows.0.measurements.chest",
        "rows.0.measurements.wingspan",
        "rows.1.size",
        "rows.2.size",
        "rows.2.measurements.hips",
    }
    missing = post_json(vendor, CHARTS, {})
    assert (missing.status_code, problem_fields(missing)) == (422, ["rows"])


def test_another_stores_chart_is_404_and_stays_unchanged() -> None:
    chart = make_size_chart(store=StoreFactory.create())
    intruder = signed_in(StoreFactory.create().owner)
    url = f"{CHARTS}{chart.pk}/"

    assert intruder.get(url).status_code == 404
    patched = intruder.patch(url, {"name": "Mine"}, content_type="application/json")
    assert patched.status_code == 404
    assert intruder.delete(url).status_code == 404
    chart.refresh_from_db()
    assert chart.name == "Tops"
    assert signed_in(UserFactory.create()).get(CHARTS).status_code == 403


def _answers(product: Any, fits: list[str]) -> None:
    variant = product.variants.get(size="M")
    for fit in fits:
        order = delivered_order([(variant, 1)])
        fit_feedback_record(
            customer_id=order.customer_id, order_line_id=order.lines.get().pk, fit=fit
        )


def test_staff_see_products_whose_size_answers_stand_out_from_their_category() -> None:
    store = StoreFactory.create()
    category = CategoryFactory.create()
    outlier = sized_product(store=store, category=category)
    typical = sized_product(store=store, category=category)
    rare = sized_product(store=store, category=category)
    _answers(outlier, ["runs_small"] * 4 + ["true_to_size"])
    _answers(typical, ["true_to_size"] * 10)
    _answers(rare, ["runs_large"] * 2)  # too few answers to list

    response = signed_in(StaffFactory.create()).get(OUTLIERS)

    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    # The category: 6 size answers of 17 = 35.3 %; the product: 80 %.
    assert (row["product_id"], row["answers"], row["size_share"]) == (outlier.pk, 5, 80.0)
    assert (row["category_size_share"], row["excess"]) == (35.3, 44.7)
    assert signed_in(StaffFactory.create()).get(OUTLIERS, {"min_excess": 50}).json()["count"] == 0
    bad = signed_in(StaffFactory.create()).get(OUTLIERS, {"min_answers": 0, "min_excess": 101})
    assert (bad.status_code, sorted(problem_fields(bad))) == (422, ["min_answers", "min_excess"])
    assert signed_in(store.owner).get(OUTLIERS).status_code == 403
