"""Reactions to shipment events: the customer hears when a parcel leaves and arrives."""

from __future__ import annotations

from apps.common.events import subscribe
from apps.shipping.events import ShipmentDelivered, ShipmentShipped
from apps.shipping.tasks import send_shipment_email


@subscribe(ShipmentShipped)
def mail_shipped(event: ShipmentShipped) -> None:
    send_shipment_email.enqueue(shipment_id=event.shipment_id, kind="shipped")


@subscribe(ShipmentDelivered)
def mail_delivered(event: ShipmentDelivered) -> None:
    send_shipment_email.enqueue(shipment_id=event.shipment_id, kind="delivered")
