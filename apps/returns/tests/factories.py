"""Returns test data: orders paid through the real services, shipped and delivered by
their stores, with a succeeded payment on record where a refund is to land."""

from __future__ import annotations

import uuid
from typing import Any

from apps.catalog.models import Colour, Variant
from apps.catalog.tests.factories import make_product
from apps.orders.models import Order
from apps.payments.models import Payment, PaymentStatus, Provider
from apps.shipping.models import Shipment
from apps.shipping.services import shipment_report_delivered, shipment_ship
from apps.shipping.tests import factories as f
from apps.vendors.models import Store


def delivered_order(
    items: list[tuple[Variant, int]], *, with_payment: bool = True, **fields: Any
) -> Order:
    order = f.paid_order(items, **fields)
    if with_payment:
        Payment.objects.create(
            order=order,
            provider=Provider.PAYSTACK,
            reference=f"R-{uuid.uuid4().hex[:20]}",
            amount=order.total_amount,
            currency=order.currency,
            status=PaymentStatus.SUCCEEDED,
        )
    for shipment in Shipment.objects.filter(order=order):
        shipment_ship(
            shipment_id=shipment.pk, store=shipment.store, carrier="DHL", tracking_number="JD1"
        )
        shipment_report_delivered(shipment_id=shipment.pk, store=shipment.store)
    order.refresh_from_db()
    return order


def parcel(order: Order, store: Store) -> Shipment:
    return f.shipment_of(order, store)


def line_of(order: Order, variant: Variant) -> int:
    return order.lines.get(variant=variant).pk


def two_sizes(
    store: Store, *, price: str = "10000.00", stock: int = 5, large_stock: int | None = None
) -> tuple[Variant, Variant]:
    """One product in M and L."""
    # Colours come from a data migration, which transactional tests flush away.
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    product = make_product(
        store=store,
        variants=[
            {"size": "M", "price": price, "stock": stock},
            {"size": "L", "price": price, "stock": stock if large_stock is None else large_stock},
        ],
    )
    return product.variants.get(size="M"), product.variants.get(size="L")
