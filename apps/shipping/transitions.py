"""Moving a shipment from one status to the next: the timestamps, the history row and
the event, in the caller's transaction (the caller holds the shipment's order locked and
brings the order's status in line afterwards)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from apps.authentication.models import User
from apps.common.errors import Conflict
from apps.common.events import publish
from apps.shipping.events import ShipmentDelivered, ShipmentReturned, ShipmentShipped
from apps.shipping.models import (
    SHIPMENT_TRANSITIONS,
    Shipment,
    ShipmentChange,
    ShipmentStatus,
)

logger = structlog.get_logger(__name__)

_TIMESTAMPS = {
    ShipmentStatus.PACKED: ("packed_at",),
    ShipmentStatus.SHIPPED: ("packed_at", "shipped_at"),
    ShipmentStatus.DELIVERED: ("packed_at", "shipped_at", "delivered_at"),
    ShipmentStatus.RETURNED: ("packed_at", "shipped_at", "returned_at"),
}
_EVENTS = {
    ShipmentStatus.SHIPPED: ShipmentShipped,
    ShipmentStatus.DELIVERED: ShipmentDelivered,
    ShipmentStatus.RETURNED: ShipmentReturned,
}


def shipment_check_step(
    shipment: Shipment, to: ShipmentStatus, *, correction: bool = False
) -> None:
    """Refuse (409) a move to the status the shipment has, or one the lifecycle does not
    allow (unless it is a staff ``correction``)."""
    current = ShipmentStatus(shipment.status)
    if current == to:
        raise Conflict(
            f"This shipment is already {to.label.lower()}.",
            code="shipment_already_in_status",
            details={"shipment_status": current},
        )
    if not correction and to not in SHIPMENT_TRANSITIONS[current]:
        raise Conflict(
            f"A shipment that is {current.label.lower()} cannot become {to.label.lower()}.",
            code="illegal_shipment_transition",
            details={"shipment_status": current, "requested": str(to)},
        )


def shipment_move(
    shipment: Shipment,
    to: ShipmentStatus,
    *,
    now: datetime,
    source: str,
    actor: User | None = None,
    reason: str = "",
    correction: bool = False,
    **fields: Any,
) -> None:
    """Move ``shipment`` (locked) to ``to``. Without ``correction`` only the lifecycle's
    next steps are allowed (409 ``illegal_shipment_transition`` otherwise); a staff
    correction may go anywhere and clears the timestamps of the steps it undoes."""
    current = ShipmentStatus(shipment.status)
    shipment_check_step(shipment, to, correction=correction)
    kept = _TIMESTAMPS.get(to, ())
    changed = ["status", "updated_at", *fields]
    for name in ("packed_at", "shipped_at", "delivered_at", "returned_at"):
        if name in kept and getattr(shipment, name) is None:
            setattr(shipment, name, now)
            changed.append(name)
        elif name not in kept and getattr(shipment, name) is not None and correction:
            setattr(shipment, name, None)
            changed.append(name)
    if to != ShipmentStatus.DELIVERED and shipment.delivery_confirmed_by:
        shipment.delivery_confirmed_by = ""
        changed.append("delivery_confirmed_by")
    shipment.status = to
    for name, value in fields.items():
        setattr(shipment, name, value)
    shipment.save(update_fields=list(dict.fromkeys(changed)))
    ShipmentChange.objects.create(
        shipment=shipment,
        from_status=current,
        to_status=to,
        actor=actor,
        source=source,
        reason=reason,
        at=now,
    )
    logger.info("shipment.status_changed", shipment_id=shipment.pk, status=str(to), source=source)
    event = _EVENTS.get(to)
    if event is not None:
        publish(event(shipment_id=shipment.pk))
