"""Order test data: orders are placed through the real service, so stock, ledger and
lines are exactly what production would write."""

from __future__ import annotations

from typing import Any

from apps.authentication.models import User
from apps.catalog.models import Colour, Variant
from apps.catalog.tests.factories import make_product
from apps.orders.models import Order
from apps.orders.services import OrderItem, order_create
from apps.vendors.models import Store
from apps.vendors.tests.factories import UserFactory

ADDRESS = "12 Admiralty Way, Lekki Phase 1, Lagos"


def make_variant(*, stock: int = 10, price: str = "5000.00", store: Store | None = None) -> Variant:
    # Colours come from a data migration, which transactional tests flush away.
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    product = make_product(store=store, variants=[{"stock": stock, "price": price}])
    return product.variants.get()


def place_order(
    *,
    customer: User | None = None,
    items: list[tuple[Variant, int]] | None = None,
    **fields: Any,
) -> Order:
    customer = customer or UserFactory.create()
    items = items or [(make_variant(), 1)]
    if "shipping_address" not in fields and "address_id" not in fields:
        fields.setdefault("delivery_address", ADDRESS)
    order, _ = order_create(
        customer_id=customer.pk,
        items=[OrderItem(variant.pk, quantity) for variant, quantity in items],
        **fields,
    )
    return order
