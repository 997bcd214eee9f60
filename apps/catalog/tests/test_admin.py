"""The admin pages for stores, categories, products (with variants and stock) load, and
staff can approve a store from the list."""

import pytest
from django.test import Client

from apps.catalog.tests.factories import make_product
from apps.vendors.models import StoreStatus
from apps.vendors.tests.factories import StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/vendors/store/",
        "/admin/catalog/category/",
        "/admin/catalog/colour/",
        "/admin/catalog/product/",
        "/admin/inventory/stock/",
        "/admin/inventory/stockmovement/",
    ],
)
def test_changelists_load(admin_client: Client, path: str) -> None:
    make_product()

    assert admin_client.get(path).status_code == 200


def test_product_page_shows_variants_with_stock(admin_client: Client) -> None:
    product = make_product(variants=[{"sku": "ADM-1", "stock": 7}])

    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/")

    assert page.status_code == 200
    assert b"ADM-1" in page.content


def test_staff_approve_from_the_store_list(admin_client: Client) -> None:
    store = StoreFactory.create(status=StoreStatus.PENDING)

    admin_client.post(
        "/admin/vendors/store/", {"action": "approve", "_selected_action": [store.pk]}
    )

    store.refresh_from_db()
    assert store.status == StoreStatus.APPROVED
