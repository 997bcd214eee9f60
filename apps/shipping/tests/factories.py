"""Shipping test data: methods written directly, orders placed and paid through the real
services (so their shipments are what placement writes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.authentication.models import User
from apps.catalog.models import Variant
from apps.orders.models import Order
from apps.orders.services import order_mark_paid
from apps.orders.tests.factories import make_variant, place_order
from apps.shipping.models import Shipment, ShippingMethod
from apps.vendors.models import Store
from apps.vendors.tests.factories import StoreFactory

LAGOS = {
    "recipient_name": "Ada Obi",
    "phone": "0803 123 4567",
    "line1": "12 Admiralty Way",
    "line2": "Lekki Phase 1",
    "city": "Lagos",
    "region": "Lagos",
    "postal_code": "",
    "country": "NG",
}
LONDON = {
    "recipient_name": "Sophie Taylor",
    "phone": "+44 20 7946 0958",
    "line1": "221 Old Kent Road",
    "city": "London",
    "postal_code": "se1 5aa",
    "country": "GB",
}


def method(
    store: Store | None,
    price: str,
    *,
    name: str | None = None,
    free_above: str | None = None,
    countries: list[str] | None = None,
    days: tuple[int, int] = (1, 3),
    **fields: Any,
) -> ShippingMethod:
    return ShippingMethod.objects.create(
        store=store,
        name=name or f"Method {price}",
        price=Decimal(price),
        currency="NGN",
        free_above=Decimal(free_above) if free_above else None,
        min_days=days[0],
        max_days=days[1],
        countries=countries or [],
        **fields,
    )


def shop() -> Store:
    made: Store = StoreFactory.create()
    return made


def variant(store: Store, price: str = "10000.00", stock: int = 20) -> Variant:
    return make_variant(store=store, price=price, stock=stock)


def paid_order(
    items: list[tuple[Variant, int]], *, customer: User | None = None, **fields: Any
) -> Order:
    order = place_order(items=items, customer=customer, **fields)
    order_mark_paid(order_id=order.pk)
    order.refresh_from_db()
    return order


def shipment_of(order: Order, store: Store) -> Shipment:
    return Shipment.objects.get(order=order, store=store, is_exchange=False)
