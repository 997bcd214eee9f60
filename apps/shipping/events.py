"""Shipment events (ids only), published after the transaction commits."""

from __future__ import annotations

from apps.common.events import Event


class ShipmentShipped(Event):
    name = "shipping.shipped"
    shipment_id: int


class ShipmentDelivered(Event):
    name = "shipping.delivered"
    shipment_id: int


class ShipmentReturned(Event):
    name = "shipping.returned"
    shipment_id: int
