"""Reads on shipping: a store's methods and shipments."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.common.errors import NotFound, ValidationFailed
from apps.shipping.models import Shipment, ShipmentStatus, ShippingMethod


def shipping_methods_for_store(*, store_id: int) -> QuerySet[ShippingMethod]:
    return ShippingMethod.objects.filter(store_id=store_id).order_by("price", "max_days", "id")


def shipping_method_get(*, store_id: int, method_id: int) -> ShippingMethod:
    method = shipping_methods_for_store(store_id=store_id).filter(pk=method_id).first()
    if method is None:
        raise NotFound("Shipping method not found.", code="shipping_method_not_found")
    return method


def _shipments() -> QuerySet[Shipment]:
    return Shipment.objects.select_related("order").prefetch_related("changes")


def shipments_for_store(*, store_id: int, status: str | None = None) -> QuerySet[Shipment]:
    """The store's shipments, newest order first; ``status`` filters."""
    if status is not None and status not in ShipmentStatus.values:
        raise ValidationFailed.for_field(
            "status", f"One of: {', '.join(ShipmentStatus.values)}.", "invalid_choice"
        )
    shipments = _shipments().filter(store_id=store_id).order_by("-order__created_at", "-id")
    return shipments.filter(status=status) if status else shipments


def shipment_get_for_store(*, store_id: int, shipment_id: int) -> Shipment:
    shipment = _shipments().filter(store_id=store_id, pk=shipment_id).first()
    if shipment is None:
        raise NotFound("Shipment not found.", code="shipment_not_found")
    return shipment


def shipment_line_ids(shipment: Shipment) -> list[int]:
    return list(
        shipment.order.lines.filter(store_id=shipment.store_id)
        .order_by("id")
        .values_list("pk", flat=True)
    )
