"""Shipping in the background: the customer's shipped/delivered emails, delivery
assumed after the window, and the vendors' daily digest of unshipped lines."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from apps.common.background import background_task
from apps.common.emails import send_templated_email
from apps.orders.models import OrderLine, OrderStatus
from apps.returns.models import ReturnLine
from apps.shipping.models import Shipment, ShipmentStatus
from apps.shipping.services import shipments_deliver_overdue
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

DIGEST_MAX_LINES = 50


def _shipment_context(shipment: Shipment) -> dict[str, object]:
    order = shipment.order
    return {
        "full_name": order.customer.full_name,
        "store_name": shipment.store.name,
        "order_number": order.order_number,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "lines": list(
            order.lines.filter(store_id=shipment.store_id)
            .order_by("id")
            .values("product_name", "size", "colour", "quantity")
        ),
        "min_days": shipment.min_days,
        "max_days": shipment.max_days,
    }


def _replacement_lines(shipment: Shipment) -> list[dict[str, object]]:
    lines = ReturnLine.objects.filter(
        request__exchange_shipment=shipment, exchange_variant__isnull=False
    ).select_related("order_line", "exchange_variant__colour")
    return [
        {
            "product_name": line.order_line.product_name,
            "size": variant.size,
            "colour": variant.colour.name,
            "quantity": line.received_sellable + line.received_damaged,
        }
        for line in lines
        if (variant := line.exchange_variant) is not None
    ]


@background_task(queue="emails")
def send_shipment_email(*, shipment_id: int, kind: str) -> str:
    """Tell the customer their parcel from a store left (with tracking) or arrived."""
    shipment = Shipment.objects.select_related("order__customer", "store").get(pk=shipment_id)
    expected = ShipmentStatus.SHIPPED if kind == "shipped" else ShipmentStatus.DELIVERED
    if kind == "shipped" and shipment.status not in {expected, ShipmentStatus.DELIVERED}:
        return "skipped"  # corrected back by staff before the email went out
    context = _shipment_context(shipment)
    if shipment.is_exchange:
        # The replacement of returned items: its lines are the return's, not the order's.
        kind = f"exchange_{kind}" if kind == "shipped" else kind
        context["lines"] = _replacement_lines(shipment)
    send_templated_email(
        to=shipment.order.customer.email, template=f"shipping/{kind}", context=context
    )
    return "sent"


@background_task(queue="default", retries=1, backoff=(60,))
def deliver_overdue_shipments(*, scheduled_tick: int | None = None) -> int:
    """Parcels shipped longer ago than the delivery window are taken as delivered."""
    delivered = shipments_deliver_overdue()
    if delivered:
        logger.info("shipments.auto_delivered", count=delivered)
    return delivered


@background_task(queue="emails")
def mail_unshipped_digests(*, scheduled_tick: int | None = None) -> int:
    """The vendors' daily digest of paid lines still unshipped (``unshipped_digests_send``)."""
    return unshipped_digests_send()


def unshipped_digests_send() -> int:
    """Each vendor with paid lines still unshipped after ``UNSHIPPED_DIGEST_HOURS`` gets one
    email listing them (oldest first). Returns how many vendors were emailed."""
    cutoff = timezone.now() - timedelta(hours=int(settings.UNSHIPPED_DIGEST_HOURS))
    late = OrderLine.objects.filter(
        fulfilled_at__isnull=True,
        order__status__in=[OrderStatus.PAID, OrderStatus.PARTLY_SHIPPED],
        order__paid_at__lte=cutoff,
    )
    stores = late.values("store_id").annotate(oldest=Min("order__paid_at")).order_by("store_id")
    sent = 0
    for row in stores:
        store = Store.objects.select_related("owner").get(pk=row["store_id"])
        lines = list(
            late.filter(store=store)
            .order_by("order__paid_at", "id")
            .values(
                "id",
                "product_name",
                "size",
                "colour",
                "quantity",
                "order__order_number",
                "order__paid_at",
            )[: DIGEST_MAX_LINES + 1]
        )
        send_templated_email(
            to=store.owner.email,
            template="shipping/unshipped_digest",
            context={
                "full_name": store.owner.full_name,
                "store_name": store.name,
                "hours": settings.UNSHIPPED_DIGEST_HOURS,
                "lines": lines[:DIGEST_MAX_LINES],
                "more": len(lines) > DIGEST_MAX_LINES,
            },
        )
        sent += 1
    return sent
