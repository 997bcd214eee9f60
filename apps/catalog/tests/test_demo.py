"""The demo catalogue: deterministic, idempotent, owned in part by the demo vendor."""

import io

import pytest
from django.core.management import call_command

from apps.catalog.demo import catalog_seed_demo
from apps.catalog.models import Product, Variant
from apps.inventory.models import Stock
from apps.vendors.models import Store, StoreStatus
from apps.vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def test_small_demo_catalogue_is_complete_and_idempotent() -> None:
    vendor = VendorFactory.create(email="vendor@example.com")

    first = catalog_seed_demo(vendor=vendor, stores=3, products=30, progress=False)
    again = catalog_seed_demo(vendor=vendor, stores=3, products=30, progress=False)

    assert first.created and not again.created
    assert (again.stores, again.products, again.variants) == (3, 30, 300)
    assert Store.objects.filter(owner=vendor, status=StoreStatus.APPROVED).count() == 1
    assert Stock.objects.count() == Variant.objects.count() == 300
    assert not Product.objects.filter(min_price__isnull=True).exists()


def test_demo_catalogue_is_the_same_for_the_same_seed() -> None:
    catalog_seed_demo(vendor=VendorFactory.create(), stores=2, products=10, progress=False)
    first = list(Variant.objects.order_by("sku").values_list("sku", "size", "price"))
    Stock.objects.all().delete()
    Variant.objects.all().delete()
    Product.objects.all().delete()
    Store.objects.all().delete()

    catalog_seed_demo(vendor=VendorFactory.create(), stores=2, products=10, progress=False)

    assert list(Variant.objects.order_by("sku").values_list("sku", "size", "price")) == first


def test_seed_demo_command_with_small_catalogue() -> None:
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())

    vendor_store = Store.objects.get(owner__email="vendor@example.com")
    assert vendor_store.products.count() == 10
    assert Product.objects.count() == 30
