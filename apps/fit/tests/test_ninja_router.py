"""v2: a product's fit page (chart with inches, signal, size advice for a signed-in
customer only) and saying how a delivered line fits."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Product
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.common.tests.api_clients import problem_fields, signed_in
from apps.fit.models import ProductFit
from apps.fit.services import fit_feedback_record
from apps.fit.tests.factories import make_size_chart, sized_product
from apps.orders.models import Order
from apps.returns.services import return_request_create
from apps.returns.tests.factories import delivered_order
from apps.shipping.models import Shipment
from apps.shipping.tests import factories as f
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def fit_url(product: Product) -> str:
    return f"/api/v2/products/{product.pk}/fit/"


def line_url(order: Order) -> str:
    return f"/api/v2/orders/{order.pk}/lines/{order.lines.get().pk}/fit/"


def put(client: Client, url: str, body: Any) -> Any:
    return client.put(url, body, content_type="application/json")


def bought(customer: Any, product: Product, size: str) -> Order:
    return delivered_order([(product.variants.get(size=size), 1)], customer=customer)


def crowd(product: Product, fits: list[str]) -> None:
    for fit in fits:
        order = bought(UserFactory.create(), product, "M")
        fit_feedback_record(
            customer_id=order.customer_id, order_line_id=order.lines.get().pk, fit=fit
        )


@pytest.fixture
def shop() -> dict[str, Any]:
    store: Store = StoreFactory.create()
    dresses = CategoryFactory.create(name="Dresses")
    return {"store": store, "dresses": dresses}


def test_anonymous_visitors_see_the_chart_and_signal_but_no_advice(shop: dict[str, Any]) -> None:
    product = sized_product(store=shop["store"], category=shop["dresses"])
    make_size_chart(store=shop["store"], category=shop["dresses"])
    crowd(product, ["runs_small"] * 4 + ["true_to_size"])

    body = Client().get(fit_url(product)).json()

    assert body["size_chart"]["applies"] == "category"
    assert body["size_chart"]["rows"][0] == {
        "size": "S",
        "measurements": [
            {"name": "chest", "cm": 88.0, "inches": 34.6},
            {"name": "waist", "cm": 72.0, "inches": 28.3},
        ],
    }
    assert body["fit"]["summary"] == "80 % say it runs small (5 answers)"
    assert body["advice"] is None


def test_without_a_chart_or_enough_answers_there_is_nothing_to_show(shop: dict[str, Any]) -> None:
    product = sized_product(store=shop["store"], category=shop["dresses"])
    crowd(product, ["runs_small"] * 4)

    body = Client().get(fit_url(product)).json()

    assert (body["size_chart"], body["fit"], body["min_answers"]) == (None, None, 5)


def test_advice_needs_enough_kept_purchases(shop: dict[str, Any]) -> None:
    customer = UserFactory.create()
    older = sized_product(store=shop["store"], category=shop["dresses"])
    product = sized_product(store=shop["store"], category=shop["dresses"])
    bought(customer, older, "M")

    advice = signed_in(customer).get(fit_url(product)).json()["advice"]

    assert advice["size"] is None
    assert "at least 2 kept purchases in Dresses; you have 1" in advice["reason"]


def test_advice_from_sizes_kept_in_this_store(shop: dict[str, Any]) -> None:
    customer = UserFactory.create()
    older = sized_product(store=shop["store"], category=shop["dresses"])
    product = sized_product(store=shop["store"], category=shop["dresses"])
    bought(customer, older, "M")
    bought(customer, older, "M")
    # Not delivered yet: not a size they kept.
    f.paid_order([(older.variants.get(size="L"), 3)], customer=customer)

    advice = signed_in(customer).get(fit_url(product)).json()["advice"]

    assert (advice["size"], advice["basis"], advice["adjusted"]) == ("M", "store", False)
    assert advice["reason"] == "You kept M in 2 purchases of Dresses from this store."


def test_advice_falls_back_to_other_stores_and_leaves_out_returned_sizes(
    shop: dict[str, Any],
) -> None:
    customer = UserFactory.create()
    elsewhere = sized_product(store=StoreFactory.create(), category=shop["dresses"])
    other = sized_product(store=StoreFactory.create(), category=shop["dresses"])
    product = sized_product(store=shop["store"], category=shop["dresses"])
    bought(customer, elsewhere, "L")
    bought(customer, other, "L")
    sent_back = bought(customer, other, "S")
    bought(customer, other, "S")
    return_request_create(
        customer_id=customer.pk,
        shipment_id=Shipment.objects.get(order=sent_back).pk,
        lines=[{"line_id": sent_back.lines.get().pk, "quantity": 1, "reason": "too_small"}],
    )

    advice = signed_in(customer).get(fit_url(product)).json()["advice"]

    assert (advice["size"], advice["basis"]) == ("L", "category")
    assert "from any store" in advice["reason"]


def test_advice_moves_one_size_up_when_the_product_runs_small(shop: dict[str, Any]) -> None:
    customer = UserFactory.create()
    older = sized_product(store=shop["store"], category=shop["dresses"])
    product = sized_product(store=shop["store"], category=shop["dresses"])
    bought(customer, older, "M")
    bought(customer, older, "M")
    client = signed_in(customer)

    crowd(product, ["runs_small"] * 3 + ["true_to_size"])
    below = client.get(fit_url(product)).json()["advice"]
    crowd(product, ["runs_small"])
    above = client.get(fit_url(product)).json()["advice"]

    assert (below["size"], below["adjusted"]) == ("M", False)
    assert (above["size"], above["usual_size"], above["adjusted"]) == ("L", "M", True)
    assert "80 % say it runs small (5 answers), so one size up" in above["reason"]


def test_no_advice_when_the_adjusted_size_is_not_offered(shop: dict[str, Any]) -> None:
    customer = UserFactory.create()
    older = sized_product(store=shop["store"], category=shop["dresses"])
    product = sized_product(store=shop["store"], category=shop["dresses"], sizes=("S", "M"))
    bought(customer, older, "M")
    bought(customer, older, "M")
    crowd(product, ["runs_small"] * 5)

    advice = signed_in(customer).get(fit_url(product)).json()["advice"]

    assert advice["size"] is None
    assert advice["reason"].endswith("L is not offered for this product.")


def test_a_hidden_or_unknown_product_is_404() -> None:
    product = sized_product(store=StoreFactory.create())
    Product.objects.filter(pk=product.pk).update(is_active=False)

    assert Client().get(fit_url(product)).status_code == 404
    assert Client().get("/api/v2/products/999999999/fit/").status_code == 404


# --- saying how it fits --------------------------------------------------------------------------


def test_a_customer_says_how_a_delivered_line_fits_and_can_change_it() -> None:
    customer = UserFactory.create()
    product = sized_product(store=StoreFactory.create())
    order = bought(customer, product, "M")
    client = signed_in(customer)

    first = put(client, line_url(order), {"fit": "runs_large"})
    second = put(client, line_url(order), {"fit": "true_to_size"})

    assert first.status_code == 200, first.content
    assert second.json() | {"updated_at": None} == {
        "order_id": order.pk,
        "line_id": order.lines.get().pk,
        "product_id": product.pk,
        "size": "M",
        "fit": "true_to_size",
        "updated_at": None,
    }
    assert product.fit_summary.counts() == {"runs_small": 0, "true_to_size": 1, "runs_large": 0}


def test_before_delivery_409_another_customers_line_404_bad_answer_422() -> None:
    customer = UserFactory.create()
    product = sized_product(store=StoreFactory.create())
    waiting = f.paid_order([(product.variants.get(size="M"), 1)], customer=customer)
    theirs = bought(UserFactory.create(), product, "M")
    mine = bought(customer, product, "S")
    client = signed_in(customer)

    early = put(client, line_url(waiting), {"fit": "runs_small"})
    other = put(client, line_url(theirs), {"fit": "runs_small"})
    wrong_order = put(
        client,
        f"/api/v2/orders/{waiting.pk}/lines/{mine.lines.get().pk}/fit/",
        {"fit": "runs_small"},
    )
    bad = put(client, line_url(mine), {"fit": "tight"})

    assert (early.status_code, early.json()["code"]) == (409, "not_delivered")
    assert (other.status_code, wrong_order.status_code) == (404, 404)
    assert (bad.status_code, problem_fields(bad)) == (422, ["fit"])
    assert Client().put(line_url(mine), {"fit": "runs_small"}).status_code == 401
    assert not product.fit_feedback.exists()


def test_the_fit_page_costs_a_fixed_number_of_queries(shop: dict[str, Any]) -> None:
    customer = UserFactory.create()
    product = sized_product(store=shop["store"], category=shop["dresses"])
    make_size_chart(store=shop["store"], category=shop["dresses"])
    client = signed_in(customer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(fit_url(product)).status_code == 200
        return len(captured)

    queries()  # the session check and the category rows are cached from here
    few = queries()
    crowd(product, ["runs_small"] * 6)
    bought(customer, product, "M")
    bought(customer, product, "M")

    assert queries() == few


def test_the_product_list_filters_by_fit_verdict_only_once_the_signal_shows(
    settings: Any,
) -> None:
    settings.FIT_SIGNAL_MIN_ANSWERS = 5
    small, true, tied, few = (make_product() for _ in range(4))
    for product, (runs_small, true_to_size, runs_large) in (
        (small, (4, 1, 0)),
        (true, (1, 3, 1)),
        (tied, (3, 0, 3)),  # a tie: true to size, nothing to adjust
        (few, (4, 0, 0)),  # four answers: no signal yet
    ):
        ProductFit.objects.create(
            product=product,
            runs_small=runs_small,
            true_to_size=true_to_size,
            runs_large=runs_large,
        )

    def listed(verdict: str) -> set[int]:
        response = Client().get(f"/api/v2/products/?fit={verdict}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert listed("runs_small") == {small.pk}
    assert listed("true_to_size") == {true.pk, tied.pk}
    assert listed("runs_large") == set()
    assert Client().get("/api/v2/products/?fit=snug").status_code == 422
