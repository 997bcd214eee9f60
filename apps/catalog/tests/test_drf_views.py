"""v1 vendor product management: nested variants, isolation between stores, staff reach,
and bad input answered 422 naming the field with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.inventory.models import StockMovement
from apps.vendors.models import StoreStatus
from apps.vendors.tests.factories import StaffFactory, StoreFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/vendor/products/"


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _payload(category_id: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Ankara wrap dress",
        "brand": "Lagos Looks",
        "description": "Cotton wax print.",
        "category_id": category_id,
        "images": ["https://cdn.example.com/dress.jpg"],
        "variants": [
            {"sku": "lw-001-s", "size": "S", "colour": "Red", "price": "15000.00", "stock": 4},
            {"sku": "LW-001-M", "size": "M", "colour": "Red", "price": "15000.00"},
        ],
    }
    return body | overrides


def _fields(response: Any) -> set[str]:
    assert response["Content-Type"] == "application/problem+json", response.content
    return {error["field"] for error in response.json()["errors"]}


def test_vendor_creates_a_product_with_variants_and_initial_stock() -> None:
    store = StoreFactory.create()
    category = CategoryFactory.create()

    response = _client(store.owner).post(URL, _payload(category.pk), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["store_id"] == store.pk
    assert body["min_price"] == "15000.00"
    skus = {v["sku"]: v["on_hand"] for v in body["variants"]}
    assert skus == {"LW-001-S": 4, "LW-001-M": 0}
    movement = StockMovement.objects.get()
    assert (movement.on_hand_delta, movement.reason, movement.actor) == (4, "initial", store.owner)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"variants": [{"sku": "A1", "size": "M", "colour": "Red", "price": "-5"}]},
            "variants.0.price",
        ),
        (
            {"variants": [{"sku": "A1", "size": "M", "colour": "Red", "price": "0"}]},
            "variants.0.price",
        ),
        ({"category_id": 987654}, "category_id"),
        (
            {"variants": [{"sku": "A1", "size": "HUGE", "colour": "Red", "price": "5"}]},
            "variants.0.size",
        ),
        (
            {"variants": [{"sku": "A1", "size": "M", "colour": "Plaid", "price": "5"}]},
            "variants.0.colour",
        ),
        (
            {"variants": [{"sku": "A1", "size": "M", "colour": "Red", "price": "5", "stock": -1}]},
            "variants.0.stock",
        ),
        (
            {
                "variants": [
                    {
                        "sku": "A1",
                        "size": "M",
                        "colour": "Red",
                        "price": "5",
                        "compare_at_price": "4",
                    }
                ]
            },
            "variants.0.compare_at_price",
        ),
        (
            {
                "variants": [
                    {"sku": "A1", "size": "M", "colour": "Red", "price": "5"},
                    {"sku": "a1", "size": "L", "colour": "Red", "price": "5"},
                ]
            },
            "variants.1.sku",
        ),
        (
            {
                "variants": [
                    {"sku": "A1", "size": "M", "colour": "Red", "price": "5"},
                    {"sku": "A2", "size": "M", "colour": "red", "price": "6"},
                ]
            },
            "variants.1.size",
        ),
        ({"variants": []}, "variants"),
        ({"name": ""}, "name"),
        ({"images": ["not a url"]}, "images.0"),
    ],
)
def test_bad_product_is_422_naming_the_field_and_writes_nothing(
    change: dict[str, Any], field: str
) -> None:
    store = StoreFactory.create()

    response = _client(store.owner).post(
        URL, _payload(CategoryFactory.create().pk) | change, format="json"
    )

    assert response.status_code == 422
    assert field in _fields(response)
    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def test_sku_taken_by_another_store_is_rejected() -> None:
    make_product(variants=[{"sku": "LW-001-S"}])
    store = StoreFactory.create()

    response = _client(store.owner).post(URL, _payload(CategoryFactory.create().pk), format="json")

    assert response.status_code == 422
    assert _fields(response) == {"variants.0.sku"}
    assert Product.objects.count() == 1


def test_format_errors_and_rule_errors_come_in_one_answer() -> None:
    make_product(variants=[{"sku": "LW-001-S"}])
    store = StoreFactory.create()
    body = _payload(
        CategoryFactory.create().pk,
        name="",  # a format error
        variants=[
            {"sku": "lw-001-s", "size": "S", "colour": "Red", "price": "15000.00"},
            {"sku": "LW-002", "size": "XXXL-NOPE", "colour": "Plaid", "price": "100.00"},
            {
                "sku": "LW-003",
                "size": "L",
                "colour": "Red",
                "price": "9000.00",
                "compare_at_price": "8000.00",
            },
        ],
    )

    response = _client(store.owner).post(URL, body, format="json")

    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors == {
        "name": "blank",
        "variants.0.sku": "duplicate_sku",
        "variants.1.size": "invalid_choice",
        "variants.1.colour": "unknown_colour",
        "variants.2.compare_at_price": "compare_at_too_low",
    }
    assert Product.objects.count() == 1


def test_a_change_with_a_format_error_also_reports_the_rules_it_breaks() -> None:
    make_product(variants=[{"sku": "TAKEN-1"}])
    product = make_product(variants=[{"sku": "MINE-1"}])
    variant = product.variants.get()

    response = _client(product.store.owner).patch(
        f"{URL}{product.pk}/",
        {"images": ["not a url"], "variants": [{"id": variant.pk, "sku": "TAKEN-1"}]},
        format="json",
    )

    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors["variants.0.sku"] == "duplicate_sku"
    assert "images.0" in errors


def test_vendor_lists_only_their_own_products() -> None:
    mine = make_product(name="Mine")
    make_product(name="Theirs")

    response = _client(mine.store.owner).get(URL)

    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["Mine"]


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_vendors_product_is_404(method: str) -> None:
    theirs = make_product(name="Theirs")
    other = StoreFactory.create()

    response = getattr(_client(other.owner), method)(
        f"{URL}{theirs.pk}/", {"name": "Stolen"}, format="json"
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_active) == ("Theirs", True)


def test_another_vendors_stock_is_404_and_unchanged() -> None:
    theirs = make_product(variants=[{"stock": 5}])
    variant = theirs.variants.get()

    response = _client(StoreFactory.create().owner).post(
        f"{URL}{theirs.pk}/stock/",
        {"variant_id": variant.pk, "delta": -5, "reason": "damaged"},
        format="json",
    )

    assert response.status_code == 404
    assert variant.stock.on_hand == 5


def test_patch_updates_fields_and_nested_variants() -> None:
    product = make_product(variants=[{"size": "S", "price": "100"}, {"size": "M", "price": "200"}])
    small, medium = product.variants.order_by("id")
    client = _client(product.store.owner)

    response = client.patch(
        f"{URL}{product.pk}/",
        {
            "name": "Renamed",
            "variants": [
                {"id": small.pk, "is_active": False},
                {"id": medium.pk, "price": "150.00", "compare_at_price": "250.00"},
                {"sku": "NEW-L", "size": "L", "colour": "Black", "price": "300", "stock": 2},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["min_price"] == "150.00"
    by_size = {v["size"]: v for v in body["variants"]}
    assert by_size["S"]["is_active"] is False
    assert by_size["M"]["compare_at_price"] == "250.00"
    assert by_size["L"]["on_hand"] == 2


def test_patch_with_bad_variant_changes_nothing() -> None:
    product = make_product(variants=[{"size": "S", "price": "100"}])
    variant = product.variants.get()

    response = _client(product.store.owner).patch(
        f"{URL}{product.pk}/",
        {"name": "Renamed", "variants": [{"id": variant.pk, "price": "-1"}, {"id": 999999}]},
        format="json",
    )

    assert response.status_code == 422
    assert _fields(response) >= {"variants.0.price"}
    product.refresh_from_db()
    assert product.name == "Linen shirt"


def test_patch_cannot_use_another_products_variant() -> None:
    product = make_product()
    other_variant = make_product().variants.get()

    response = _client(product.store.owner).patch(
        f"{URL}{product.pk}/",
        {"variants": [{"id": other_variant.pk, "price": "1"}]},
        format="json",
    )

    assert response.status_code == 422
    assert _fields(response) == {"variants.0.id"}


def test_delete_deactivates() -> None:
    product = make_product()

    response = _client(product.store.owner).delete(f"{URL}{product.pk}/")

    assert response.status_code == 204
    product.refresh_from_db()
    assert product.is_active is False


def test_staff_manage_any_store() -> None:
    product = make_product(name="Vendor's")
    store = StoreFactory.create(status=StoreStatus.PENDING)
    client = _client(StaffFactory.create())

    assert client.get(f"{URL}{product.pk}/").status_code == 200
    assert client.patch(f"{URL}{product.pk}/", {"brand": "X"}, format="json").status_code == 200
    missing = client.post(URL, _payload(CategoryFactory.create().pk), format="json")
    assert missing.status_code == 422 and _fields(missing) == {"store_id"}
    created = client.post(
        URL, _payload(CategoryFactory.create().pk, store_id=store.pk), format="json"
    )
    assert created.status_code == 201
    assert created.json()["store_id"] == store.pk


@pytest.mark.parametrize("user_kind", ["anonymous", "customer", "vendor_without_store"])
def test_others_cannot_manage_products(user_kind: str) -> None:
    client = APIClient()
    if user_kind == "customer":
        client.force_authenticate(UserFactory.create())
    elif user_kind == "vendor_without_store":
        client.force_authenticate(VendorFactory.create())

    response = client.get(URL)

    assert response.status_code in {401, 403}
    assert response["Content-Type"] == "application/problem+json"


# --- stock endpoint ---------------------------------------------------------------------


def test_stock_adjustment_updates_stock_and_writes_the_ledger() -> None:
    product = make_product(variants=[{"stock": 5}])
    variant = product.variants.get()
    client = _client(product.store.owner)

    response = client.post(
        f"{URL}{product.pk}/stock/",
        {"variant_id": variant.pk, "delta": 10, "reason": "restock", "note": "PO 42"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["on_hand"] == 15
    assert response.json()["available"] == 15
    movement = StockMovement.objects.latest("id")
    assert (movement.on_hand_delta, movement.reason, movement.note) == (10, "restock", "PO 42")
    assert movement.actor == product.store.owner


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"delta": -6, "reason": "damaged"}, "delta"),
        ({"delta": 0, "reason": "restock"}, "delta"),
        ({"delta": "many", "reason": "restock"}, "delta"),
        ({"delta": 1, "reason": "stolen"}, "reason"),
        ({"delta": 1, "reason": "reserved"}, "reason"),
        ({"delta": 1, "reason": "restock", "variant_id": 999999}, "variant_id"),
        ({"reason": "restock"}, "delta"),
    ],
)
def test_bad_stock_adjustment_is_422_naming_the_field(body: dict[str, Any], field: str) -> None:
    product = make_product(variants=[{"stock": 5}])
    variant = product.variants.get()

    response = _client(product.store.owner).post(
        f"{URL}{product.pk}/stock/", {"variant_id": variant.pk, **body}, format="json"
    )

    assert response.status_code == 422
    assert _fields(response) == {field}
    variant.stock.refresh_from_db()
    assert variant.stock.on_hand == 5
    assert StockMovement.objects.count() == 1  # only the initial stock
