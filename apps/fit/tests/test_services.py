"""Size charts (validation, inches, the chart that applies through the category tree),
fit feedback (after delivery only, one per line, each customer their own) and the fit
signal's threshold."""

from __future__ import annotations

import pytest

from apps.catalog.tests.factories import CategoryFactory
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.fit.models import FitFeedback
from apps.fit.selectors import fit_signal, size_chart_data, size_chart_for
from apps.fit.services import fit_feedback_record, size_chart_create
from apps.fit.tests.factories import make_size_chart, sized_product
from apps.returns.tests.factories import delivered_order
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fields(error: ValidationFailed) -> set[str]:
    return {field.field for field in error.field_errors}


def test_a_chart_names_every_bad_field_at_once() -> None:
    store = StoreFactory.create()

    with pytest.raises(ValidationFailed) as caught:
        size_chart_create(
            store=store,
            data={
                "category_id": 10**9,
                "name": "x" * 81,
                "rows": [
                    {"size": "M", "measurements": {"chest": 96, "wingspan": 180}},
                    {"size": "M", "measurements": {"waist": -3}},
                    {"size": "XXXXL", "measurements": {"hips": 100.25}},
                    {"size": "L", "measurements": {}},
                ],
            },
        )

    assert _fields(caught.value) == {
        "category_id",
        "name",
        "rows.0.measurements.wingspan",
        "rows.1.size",
        "rows.1.measurements.waist",
        "rows.2.size",
        "rows.2.measurements.hips",
        "rows.3.measurements",
    }


def test_one_chart_per_category_and_one_default_per_store() -> None:
    store = StoreFactory.create()
    category = CategoryFactory.create()
    make_size_chart(store=store, category=category)
    make_size_chart(store=store)

    for again in (category, None):
        with pytest.raises(ValidationFailed) as caught:
            make_size_chart(store=store, category=again)
        assert _fields(caught.value) == {"category_id"}
    # Another store may chart the same category.
    make_size_chart(store=StoreFactory.create(), category=category)


def test_a_chart_shows_inches_and_shoe_conversions_for_feet() -> None:
    store = StoreFactory.create()
    shirts = make_size_chart(store=store, category=CategoryFactory.create())
    shoes = make_size_chart(
        store=store, rows=[{"size": "EU 42", "measurements": {"foot_length": "26.5"}}]
    )

    shirt = size_chart_data(shirts)
    assert shirt["rows"][1]["measurements"][0] == {"name": "chest", "cm": 96.0, "inches": 37.8}
    assert shirt["shoe_sizes"] is None
    table = size_chart_data(shoes)["shoe_sizes"]
    assert {"eu": "EU 42", "uk": "UK 8", "us_men": "US 9", "us_women": "US 10"}.items() <= next(
        row for row in table if row["eu"] == "EU 42"
    ).items()
    assert len(table) == 15


def test_the_chart_of_the_nearest_category_up_the_tree_applies_else_the_default() -> None:
    store = StoreFactory.create()
    women = CategoryFactory.create()
    dresses = CategoryFactory.create(parent=women)
    maxi = CategoryFactory.create(parent=dresses)
    shoes = CategoryFactory.create()
    assert size_chart_for(store_id=store.pk, category_id=maxi.pk) is None

    default = make_size_chart(store=store)
    women_chart = make_size_chart(store=store, category=women)
    dresses_chart = make_size_chart(store=store, category=dresses)
    make_size_chart(store=StoreFactory.create(), category=maxi)  # another store's

    assert size_chart_for(store_id=store.pk, category_id=maxi.pk) == (dresses_chart, "ancestor")
    assert size_chart_for(store_id=store.pk, category_id=dresses.pk) == (
        dresses_chart,
        "category",
    )
    assert size_chart_for(store_id=store.pk, category_id=women.pk) == (women_chart, "category")
    assert size_chart_for(store_id=store.pk, category_id=shoes.pk) == (default, "default")


# --- fit feedback ------------------------------------------------------------------------


def test_feedback_needs_the_parcel_delivered() -> None:
    product = sized_product(store=StoreFactory.create())
    customer = UserFactory.create()
    order = f.paid_order([(product.variants.get(size="M"), 1)], customer=customer)

    with pytest.raises(Conflict) as caught:
        fit_feedback_record(
            customer_id=customer.pk, order_line_id=order.lines.get().pk, fit="runs_small"
        )

    assert caught.value.code == "not_delivered"
    assert not FitFeedback.objects.exists()


def test_a_second_answer_replaces_the_first_and_the_signal_follows() -> None:
    product = sized_product(store=StoreFactory.create())
    customer = UserFactory.create()
    order = delivered_order([(product.variants.get(size="M"), 1)], customer=customer)
    line_id = order.lines.get().pk

    fit_feedback_record(customer_id=customer.pk, order_line_id=line_id, fit="runs_small")
    again = fit_feedback_record(
        customer_id=customer.pk, order_line_id=line_id, fit="true_to_size", source="return"
    )

    assert FitFeedback.objects.get() == again
    assert (again.fit, again.source, again.size) == ("true_to_size", "return", "M")
    assert product.fit_summary.counts() == {"runs_small": 0, "true_to_size": 1, "runs_large": 0}


def test_another_customers_line_is_not_found_and_bad_answers_are_named() -> None:
    product = sized_product(store=StoreFactory.create())
    order = delivered_order([(product.variants.get(size="M"), 1)])
    line_id = order.lines.get().pk

    with pytest.raises(NotFound):
        fit_feedback_record(
            customer_id=UserFactory.create().pk, order_line_id=line_id, fit="runs_small"
        )
    with pytest.raises(ValidationFailed) as caught:
        fit_feedback_record(
            customer_id=order.customer_id, order_line_id=line_id, fit="tight", source="x"
        )
    assert _fields(caught.value) == {"fit", "source"}
    assert not FitFeedback.objects.exists()


def answered(product_id: int, fits: list[str]) -> None:
    """One delivered order per answer, each from its own customer."""
    from apps.catalog.models import Product

    product = Product.objects.get(pk=product_id)
    variant = product.variants.get(size="M")
    for fit in fits:
        order = delivered_order([(variant, 1)])
        fit_feedback_record(
            customer_id=order.customer_id, order_line_id=order.lines.get().pk, fit=fit
        )


def test_the_signal_shows_only_from_the_minimum_number_of_answers(settings: object) -> None:
    product = sized_product(store=StoreFactory.create())

    answered(product.pk, ["runs_small", "runs_small", "runs_small", "true_to_size"])
    assert fit_signal(product_id=product.pk) is None

    answered(product.pk, ["runs_large"])
    signal = fit_signal(product_id=product.pk)
    assert signal is not None
    assert signal["answers"] == 5
    assert signal["percent"] == {"runs_small": 60, "true_to_size": 20, "runs_large": 20}
    assert signal["verdict"] == "runs_small"
    assert signal["summary"] == "60 % say it runs small (5 answers)"


def test_the_threshold_is_a_setting(settings: object) -> None:
    settings.FIT_SIGNAL_MIN_ANSWERS = 2  # type: ignore[attr-defined]
    product = sized_product(store=StoreFactory.create())
    answered(product.pk, ["runs_large"])
    assert fit_signal(product_id=product.pk) is None
    answered(product.pk, ["true_to_size"])
    signal = fit_signal(product_id=product.pk)
    assert signal is not None and signal["verdict"] == "true_to_size"  # a tie adjusts nothing
