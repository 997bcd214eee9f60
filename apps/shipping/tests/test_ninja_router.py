"""v2: a quote before ordering, orders placed with a structured address (inline or from
the address book) and a shipping method per store, every shipment on the order, the
customer confirming delivery — and bad input named, others' orders and parcels 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.addresses.services import address_create
from apps.common.tests.api_clients import post_json, problem_fields, signed_in
from apps.orders.models import Order
from apps.shipping.services import shipment_ship
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

QUOTE, ORDERS = "/api/v2/shipping/quote/", "/api/v2/orders/"


@pytest.fixture
def basket() -> dict[str, Any]:
    adire, kente = f.shop(), f.shop()
    cheap = f.method(adire, "2000.00", name="Nationwide", countries=["NG"])
    express = f.method(adire, "6000.00", name="Express", countries=["NG"], days=(0, 1))
    f.method(kente, "1500.00", free_above="20000.00")
    items = [
        {"variant_id": f.variant(adire, "12000.00").pk, "quantity": 1},
        {"variant_id": f.variant(kente, "10000.00").pk, "quantity": 2},
    ]
    return {"adire": adire, "kente": kente, "cheap": cheap, "express": express, "items": items}


def test_a_quote_lists_each_stores_options_and_the_totals(basket: dict[str, Any]) -> None:
    customer = signed_in(UserFactory.create())

    response = post_json(customer, QUOTE, {"items": basket["items"], "country": "NG"})

    assert response.status_code == 200, response.content
    quote = response.json()
    assert (quote["subtotal"], quote["shipping_total"], quote["total"]) == (
        "32000.00",
        "2000.00",
        "34000.00",
    )
    adire, kente = quote["stores"]
    assert [o["name"] for o in adire["options"]] == ["Nationwide", "Express"]
    assert adire["chosen"]["method_id"] == basket["cheap"].pk
    assert (kente["subtotal"], kente["chosen"]["price"]) == ("20000.00", "0.00")


def test_an_order_with_an_address_and_a_chosen_method_shows_its_shipments(
    basket: dict[str, Any],
) -> None:
    user = UserFactory.create()
    customer = signed_in(user)
    home = address_create(customer=user, data=f.LAGOS, label="Home")
    body = {
        "items": basket["items"],
        "address_id": home.pk,
        "shipping": [{"store_id": basket["adire"].pk, "method_id": basket["express"].pk}],
    }

    quoted = post_json(customer, QUOTE, body).json()
    placed = post_json(customer, ORDERS, body)

    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["total_amount"] == quoted["total"] == "38000.00"
    assert order["shipping_amount"] == "6000.00"
    assert order["shipping_address"]["phone"] == "+2348031234567"
    assert order["shipping_address"]["region"] == "Lagos"
    assert "Lekki Phase 1" in order["delivery_address"]
    express, free = order["shipments"]
    assert (express["method_name"], express["shipping_amount"], express["status"]) == (
        "Express",
        "6000.00",
        "awaiting",
    )
    assert free["shipping_amount"] == "0.00" and len(free["line_ids"]) == 1
    assert signed_in(user).get(f"{ORDERS}{order['id']}/").json()["shipments"] == order["shipments"]


def test_the_address_is_checked_field_by_field(basket: dict[str, Any]) -> None:
    customer = signed_in(UserFactory.create())
    bad = {**f.LONDON, "postal_code": "123", "phone": "12"}

    inline = post_json(customer, ORDERS, {"items": basket["items"], "shipping_address": bad})
    nothing = post_json(customer, ORDERS, {"items": basket["items"]})
    both = post_json(
        customer,
        ORDERS,
        {"items": basket["items"], "shipping_address": f.LAGOS, "delivery_address": "x" * 20},
    )
    strangers = address_create(customer=UserFactory.create(), data=f.LAGOS)
    not_mine = post_json(customer, ORDERS, {"items": basket["items"], "address_id": strangers.pk})

    assert problem_fields(inline) == ["shipping_address.phone", "shipping_address.postal_code"]
    assert problem_fields(nothing) == ["shipping_address"]
    assert problem_fields(both) == ["delivery_address"]
    assert problem_fields(not_mine) == ["address_id"]
    # Neither store ships to the UK: named on the country once the address is good
    abroad = post_json(customer, ORDERS, {"items": basket["items"], "shipping_address": f.LONDON})
    assert problem_fields(abroad) == ["shipping_address.country"]
    assert not Order.objects.exists()


def test_bad_quotes_are_named(basket: dict[str, Any]) -> None:
    customer = signed_in(UserFactory.create())

    assert problem_fields(
        post_json(customer, QUOTE, {"items": basket["items"], "country": "N1"})
    ) == ["country"]
    assert problem_fields(post_json(customer, QUOTE, {"items": [], "country": "NG"})) == ["items"]
    wrong_method = {
        "items": basket["items"],
        "country": "NG",
        "shipping": [{"store_id": basket["kente"].pk, "method_id": basket["express"].pk}],
    }
    assert problem_fields(post_json(customer, QUOTE, wrong_method)) == ["shipping.0.method_id"]
    assert Client().post(QUOTE, {}, content_type="application/json").status_code == 401


def test_the_customer_confirms_a_parcel_only_once_shipped_and_only_their_own(
    django_capture_on_commit_callbacks: Any,
) -> None:
    store = f.shop()
    order = f.paid_order([(f.variant(store), 1)])
    shipment = f.shipment_of(order, store)
    owner, stranger = signed_in(order.customer), signed_in(UserFactory.create())
    url = f"{ORDERS}{order.pk}/shipments/{shipment.pk}/confirm-delivery/"

    early = post_json(owner, url, {})
    with django_capture_on_commit_callbacks(execute=True):
        shipment_ship(shipment_id=shipment.pk, store=store, carrier="DHL", tracking_number="1")
    theirs = post_json(stranger, url, {})
    wrong_order = post_json(
        owner, f"{ORDERS}{order.pk + 999}/shipments/{shipment.pk}/confirm-delivery/", {}
    )
    confirmed = post_json(owner, url, {})
    again = post_json(owner, url, {})

    assert early.status_code == 409 and early.json()["code"] == "illegal_shipment_transition"
    assert theirs.status_code == 404 and wrong_order.status_code == 404
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "delivered"
    assert confirmed.json()["shipments"][0]["delivered_at"] is not None
    assert again.status_code == 409 and again.json()["code"] == "shipment_already_in_status"
