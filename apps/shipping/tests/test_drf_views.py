"""v1, vendors: their shipping methods (CRUD, every bad field named, another store's
404) and their shipments (list, pack, ship, delivered, returned; steps out of order 409;
another store's 404)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.common.tests.api_clients import post_json, problem_fields, signed_in
from apps.shipping.models import ShippingMethod
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

METHODS = "/api/v1/vendor/shipping-methods/"
SHIPMENTS = "/api/v1/vendor/shipments/"


def test_a_vendor_manages_their_shipping_methods() -> None:
    store = f.shop()
    vendor = signed_in(store.owner)

    created = post_json(
        vendor,
        METHODS,
        {
            "name": "Nationwide",
            "price": "2500.00",
            "free_above": "40000.00",
            "min_days": 2,
            "max_days": 5,
            "countries": ["ng", "gh"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["price"], body["currency"], body["countries"]) == ("2500.00", "NGN", ["GH", "NG"])

    changed = vendor.patch(
        f"{METHODS}{body['id']}/", {"price": "3000.00"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["price"] == "3000.00"
    assert changed.json()["free_above"] == "40000.00"
    listed = vendor.get(METHODS).json()
    assert [m["name"] for m in listed["results"]] == ["Nationwide"]

    assert vendor.delete(f"{METHODS}{body['id']}/").status_code == 204
    assert not ShippingMethod.objects.exists()


def test_bad_methods_name_every_field_and_write_nothing() -> None:
    vendor = signed_in(f.shop().owner)

    response = post_json(
        vendor,
        METHODS,
        {"name": "", "price": "-1", "min_days": 9, "max_days": 200, "countries": ["ZZ"]},
    )
    unknown_country = post_json(
        vendor,
        METHODS,
        {"name": "Abroad", "price": "1.00", "min_days": 1, "max_days": 2, "countries": ["ZZ"]},
    )
    backwards = post_json(
        vendor, METHODS, {"name": "Slow", "price": "1.00", "min_days": 9, "max_days": 2}
    )

    assert problem_fields(response) == ["max_days", "name", "price"]
    assert problem_fields(unknown_country) == ["countries"]
    assert problem_fields(backwards) == ["max_days"]
    assert not ShippingMethod.objects.exists()


def test_another_stores_method_is_not_found() -> None:
    theirs = f.method(f.shop(), "1000.00")
    vendor = signed_in(f.shop().owner)

    assert vendor.get(f"{METHODS}{theirs.pk}/").status_code == 404
    assert vendor.delete(f"{METHODS}{theirs.pk}/").status_code == 404
    patched = vendor.patch(
        f"{METHODS}{theirs.pk}/", {"price": "1.00"}, content_type="application/json"
    )
    assert patched.status_code == 404
    assert ShippingMethod.objects.get(pk=theirs.pk).price == 1000


def test_customers_cannot_use_the_vendor_endpoints() -> None:
    customer = signed_in(UserFactory.create())
    assert customer.get(METHODS).status_code == 403
    assert customer.get(SHIPMENTS).status_code == 403


def test_a_vendor_packs_ships_and_reports_delivery(django_capture_on_commit_callbacks: Any) -> None:
    store = f.shop()
    order = f.paid_order([(f.variant(store), 1), (f.variant(store), 2)])
    vendor = signed_in(store.owner)

    [waiting] = vendor.get(f"{SHIPMENTS}?status=awaiting").json()["results"]
    assert (waiting["order_number"], waiting["status"]) == (order.order_number, "awaiting")
    assert sorted(waiting["line_ids"]) == sorted(order.lines.values_list("pk", flat=True))

    packed = post_json(vendor, SHIPMENTS, {"line_ids": waiting["line_ids"]})
    assert packed.status_code == 201 and packed.json()["status"] == "packed"

    with django_capture_on_commit_callbacks(execute=True):
        shipped = post_json(
            vendor,
            f"{SHIPMENTS}{waiting['id']}/ship/",
            {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        )
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["tracking_url"].startswith("https://www.ups.com/track")
    assert shipped.json()["order_status"] == "fulfilled"

    again = post_json(
        vendor, f"{SHIPMENTS}{waiting['id']}/ship/", {"carrier": "UPS", "tracking_number": "X"}
    )
    assert again.status_code == 409 and again.json()["code"] == "shipment_already_in_status"

    delivered = post_json(vendor, f"{SHIPMENTS}{waiting['id']}/delivered/")
    assert delivered.status_code == 200 and delivered.json()["order_status"] == "delivered"
    assert [c["to_status"] for c in delivered.json()["changes"]] == [
        "packed",
        "shipped",
        "delivered",
    ]
    returned = post_json(vendor, f"{SHIPMENTS}{waiting['id']}/returned/")
    assert returned.status_code == 409 and returned.json()["code"] == "illegal_shipment_transition"


def test_bad_shipment_input_is_named_and_other_stores_parcels_are_not_found() -> None:
    store, other = f.shop(), f.shop()
    order = f.paid_order([(f.variant(store), 1)])
    shipment = f.shipment_of(order, store)
    vendor, stranger = signed_in(store.owner), signed_in(other.owner)

    assert problem_fields(
        post_json(vendor, f"{SHIPMENTS}{shipment.pk}/ship/", {"carrier": "UPS"})
    ) == ["tracking_number"]
    assert problem_fields(post_json(vendor, SHIPMENTS, {"line_ids": []})) == ["line_ids"]
    assert problem_fields(post_json(vendor, SHIPMENTS, {"line_ids": ["x"]})) == ["line_ids.0"]
    assert problem_fields(vendor.get(f"{SHIPMENTS}?status=lost")) == ["status"]
    assert stranger.get(f"{SHIPMENTS}{shipment.pk}/").status_code == 404
    assert post_json(stranger, f"{SHIPMENTS}{shipment.pk}/delivered/").status_code == 404
    packing_theirs = post_json(stranger, SHIPMENTS, {"line_ids": [order.lines.get().pk]})
    assert packing_theirs.status_code == 404
    assert stranger.get(SHIPMENTS).json()["count"] == 0
    assert f.shipment_of(order, store).status == "awaiting"
