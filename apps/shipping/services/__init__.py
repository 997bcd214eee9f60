"""Writes on shipping: methods and shipments."""

from apps.shipping.services.methods import (
    shipping_method_create,
    shipping_method_delete,
    shipping_method_update,
)
from apps.shipping.services.shipments import (
    shipment_confirm_delivery,
    shipment_correct,
    shipment_pack,
    shipment_report_delivered,
    shipment_report_returned,
    shipment_ship,
    shipments_deliver_overdue,
    tracking_url_for,
)

__all__ = [
    "shipment_confirm_delivery",
    "shipment_correct",
    "shipment_pack",
    "shipment_report_delivered",
    "shipment_report_returned",
    "shipment_ship",
    "shipments_deliver_overdue",
    "shipping_method_create",
    "shipping_method_delete",
    "shipping_method_update",
    "tracking_url_for",
]
