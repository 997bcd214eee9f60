"""A shipment's life: the vendor packs and ships it (carrier, tracking), it arrives
(the customer confirms, the vendor reports it, or the scheduler assumes it after the
delivery window) or comes back to its sender; staff correct it with a reason. Each
change locks the order, then the shipment, and brings the order's status in line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.authentication.models import User
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.services import order_sync_with_shipments
from apps.shipping.models import (
    Carrier,
    DeliveryConfirmation,
    Shipment,
    ShipmentStatus,
)
from apps.shipping.transitions import shipment_check_step, shipment_move
from apps.vendors.models import Store

CARRIER_MAX = 80
TRACKING_MAX = 64
REASON_MAX = 255
_SENDABLE_ORDERS = frozenset({OrderStatus.PAID, OrderStatus.PARTLY_SHIPPED})


def _locked_shipment(
    shipment_id: int,
    *,
    store: Store | None = None,
    customer_id: int | None = None,
    order_id: int | None = None,
) -> Shipment:
    """The shipment with its order locked first (the order's status follows it)."""
    shipments = Shipment.objects.filter(pk=shipment_id)
    if store is not None:
        shipments = shipments.filter(store=store)
    if customer_id is not None:
        shipments = shipments.filter(order__customer_id=customer_id)
    if order_id is not None:
        shipments = shipments.filter(order_id=order_id)
    order_id = shipments.values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("Shipment not found.", code="shipment_not_found")
    Order.objects.select_for_update().filter(pk=order_id).first()
    return Shipment.objects.select_for_update().select_related("order").get(pk=shipment_id)


def _sync(shipment: Shipment, now: datetime) -> None:
    order_sync_with_shipments(shipment.order, now=now)


def _clean_tracking(
    carrier: str | None, tracking_number: str | None, *, required: bool
) -> tuple[str, str]:
    carrier = (carrier or "").strip()
    number = (tracking_number or "").strip()
    errors = []
    if required and not carrier:
        errors.append(FieldError("carrier", "Name the carrier.", "required"))
    if len(carrier) > CARRIER_MAX:
        errors.append(FieldError("carrier", f"At most {CARRIER_MAX} characters.", "max_length"))
    if required and not number:
        errors.append(FieldError("tracking_number", "Give the tracking number.", "required"))
    if len(number) > TRACKING_MAX or any(c.isspace() for c in number.strip()):
        errors.append(
            FieldError(
                "tracking_number",
                f"At most {TRACKING_MAX} characters, no spaces.",
                "invalid",
            )
        )
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return carrier, number


def tracking_url_for(carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for the number, when the carrier is known."""
    if not carrier or not tracking_number:
        return ""
    template = (
        Carrier.objects.filter(name__iexact=carrier)
        .values_list("tracking_url_template", flat=True)
        .first()
    )
    return template.replace("{number}", quote(tracking_number, safe="")) if template else ""


def _check_sendable(shipment: Shipment, to: ShipmentStatus) -> None:
    # The parcel's own state first: a repeated request must hear that it was done
    # already, not that the order (by then shipped) is no longer paid.
    shipment_check_step(shipment, to)
    if not shipment.is_exchange and shipment.order.status not in _SENDABLE_ORDERS:
        raise Conflict(
            "Only parcels of paid orders can be sent.",
            code="order_not_paid",
            details={"order_status": shipment.order.status},
        )


@transaction.atomic
def shipment_pack(
    *,
    store: Store,
    line_ids: Sequence[int],
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> Shipment:
    """The vendor packs their lines of one paid order into its shipment (every line of
    theirs in the order: one parcel per store and order). Raises ``ValidationFailed``
    (``line_ids``), ``NotFound`` (lines of another store), ``Conflict``."""
    ids = list(dict.fromkeys(line_ids))
    if not 1 <= len(ids) <= 100:
        raise ValidationFailed.for_field("line_ids", "Between 1 and 100 line ids.", "length")
    carrier, number = _clean_tracking(carrier, tracking_number, required=False)
    rows = list(OrderLine.objects.filter(pk__in=ids, store=store).values_list("pk", "order_id"))
    if len(rows) != len(ids):
        raise NotFound("Order line not found.", code="order_line_not_found")
    orders = {order_id for _, order_id in rows}
    if len(orders) > 1:
        raise ValidationFailed.for_field(
            "line_ids", "Lines of one order only: one parcel per order.", "several_orders"
        )
    (order_id,) = orders
    shipment_id = (
        Shipment.objects.filter(order_id=order_id, store=store, is_exchange=False)
        .values_list("pk", flat=True)
        .first()
    )
    if shipment_id is None:
        raise NotFound("Shipment not found.", code="shipment_not_found")
    shipment = _locked_shipment(shipment_id, store=store)
    _check_sendable(shipment, ShipmentStatus.PACKED)
    missing = sorted(
        set(OrderLine.objects.filter(order_id=order_id, store=store).values_list("pk", flat=True))
        - set(ids)
    )
    if missing:
        raise ValidationFailed(
            "Pack every line of yours in this order into its parcel.",
            field_errors=[
                FieldError(
                    "line_ids",
                    f"Missing lines of this order: {', '.join(map(str, missing))}.",
                    "incomplete",
                )
            ],
            details={"missing_line_ids": missing},
        )
    now = timezone.now()
    tracking: dict[str, Any] = (
        {"carrier": carrier, "tracking_number": number} if carrier or number else {}
    )
    shipment_move(shipment, ShipmentStatus.PACKED, now=now, source="vendor", **tracking)
    return shipment


@transaction.atomic
def shipment_ship(
    *,
    shipment_id: int,
    store: Store,
    carrier: str | None,
    tracking_number: str | None,
) -> Shipment:
    """The parcel left: carrier and tracking number required, the tracking page linked
    when the carrier is known; the lines count as fulfilled; the customer is emailed."""
    carrier, number = _clean_tracking(carrier, tracking_number, required=True)
    shipment = _locked_shipment(shipment_id, store=store)
    _check_sendable(shipment, ShipmentStatus.SHIPPED)
    now = timezone.now()
    shipment_move(
        shipment,
        ShipmentStatus.SHIPPED,
        now=now,
        source="vendor",
        carrier=carrier,
        tracking_number=number,
        tracking_url=tracking_url_for(carrier, number),
    )
    OrderLine.objects.filter(
        order_id=shipment.order_id, store_id=shipment.store_id, fulfilled_at__isnull=True
    ).update(fulfilled_at=now)
    _sync(shipment, now)
    return shipment


def _deliver(shipment: Shipment, by: DeliveryConfirmation, source: str, now: datetime) -> None:
    shipment_move(
        shipment, ShipmentStatus.DELIVERED, now=now, source=source, delivery_confirmed_by=by
    )
    _sync(shipment, now)


@transaction.atomic
def shipment_confirm_delivery(
    *, shipment_id: int, customer_id: int, order_id: int | None = None
) -> Shipment:
    """The customer says the parcel arrived. Another customer's shipment (or one of
    another order than ``order_id``) → 404."""
    shipment = _locked_shipment(shipment_id, customer_id=customer_id, order_id=order_id)
    _deliver(shipment, DeliveryConfirmation.CUSTOMER, "customer", timezone.now())
    return shipment


@transaction.atomic
def shipment_report_delivered(*, shipment_id: int, store: Store) -> Shipment:
    """The vendor reports the carrier's proof of delivery."""
    shipment = _locked_shipment(shipment_id, store=store)
    _deliver(shipment, DeliveryConfirmation.VENDOR, "vendor", timezone.now())
    return shipment


@transaction.atomic
def shipment_report_returned(*, shipment_id: int, store: Store) -> Shipment:
    """The carrier brought the parcel back to the vendor (refused, undeliverable)."""
    shipment = _locked_shipment(shipment_id, store=store)
    now = timezone.now()
    shipment_move(shipment, ShipmentStatus.RETURNED, now=now, source="vendor")
    _sync(shipment, now)
    return shipment


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= REASON_MAX:
        raise ValidationFailed.for_field(
            "reason", f"Between 3 and {REASON_MAX} characters.", "length"
        )
    return reason


@transaction.atomic
def shipment_correct(*, shipment_id: int, to: str, actor: User, reason: str) -> Shipment:
    """Staff set a shipment's status (any direction), with a reason kept in its
    history; the order's status follows."""
    reason = _clean_reason(reason)
    if to not in ShipmentStatus.values:
        raise ValidationFailed.for_field(
            "status", f"One of: {', '.join(ShipmentStatus.values)}.", "invalid_choice"
        )
    shipment = _locked_shipment(shipment_id)
    now = timezone.now()
    target = ShipmentStatus(to)
    extra: dict[str, object] = {}
    if target == ShipmentStatus.DELIVERED:
        extra["delivery_confirmed_by"] = DeliveryConfirmation.STAFF
    shipment_move(
        shipment,
        target,
        now=now,
        source="staff",
        actor=actor,
        reason=reason,
        correction=True,
        **extra,
    )
    _sync(shipment, now)
    return shipment


def shipments_deliver_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Shipments shipped more than ``SHIPMENT_AUTO_DELIVERY_DAYS`` ago and not reported
    arrived are taken as delivered, each under its locks (so overlapping runs deliver
    it once). Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(settings.SHIPMENT_AUTO_DELIVERY_DAYS))
    due = list(
        Shipment.objects.filter(status=ShipmentStatus.SHIPPED, shipped_at__lte=cutoff)
        .order_by("shipped_at")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = 0
    for shipment_id in due:
        with transaction.atomic():
            shipment = _locked_shipment(shipment_id)
            if shipment.status != ShipmentStatus.SHIPPED:
                continue
            _deliver(shipment, DeliveryConfirmation.AUTOMATIC, "automatic", now)
            delivered += 1
    return delivered
