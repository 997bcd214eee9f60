"""Demo returns: a few of the delivered demo parcels come back — mostly for size — in
every state (asked, approved, rejected, received and closed), so the vendor's inbox, the
customer's returns and the reports have something to show. Written in bulk like the
order history; its own random stream; created once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.orders.models import OrderLine
from apps.returns.models import ReturnLine, ReturnReason, ReturnRequest, ReturnStatus
from apps.shipping.models import Shipment, ShipmentStatus

RETURN_SHARE = 0.07
REASONS = (
    (ReturnReason.TOO_SMALL, 30),
    (ReturnReason.TOO_LARGE, 24),
    (ReturnReason.FIT, 10),
    (ReturnReason.NOT_AS_PICTURED, 10),
    (ReturnReason.DAMAGED, 7),
    (ReturnReason.WRONG_ITEM, 5),
    (ReturnReason.CHANGED_MIND, 14),
)


def _state(rng: random.Random, delivered: datetime, now: datetime) -> dict[str, object]:
    """The request's state and times: recent ones still open, older ones decided."""
    asked = delivered + timedelta(hours=rng.randint(6, 24 * 10))
    if asked > now:
        asked = delivered + (now - delivered) / 2
    fields: dict[str, object] = {"created_at": asked}
    age = now - asked
    if age < timedelta(days=2):
        fields["status"] = ReturnStatus.REQUESTED
        return fields
    decided = asked + timedelta(hours=rng.randint(2, 40))
    if rng.random() < 0.12:
        fields.update(
            status=ReturnStatus.REJECTED,
            rejected_at=decided,
            decision_reason="Worn and washed: not in a condition to resell.",
        )
        return fields
    fields.update(status=ReturnStatus.APPROVED, approved_at=decided)
    if age < timedelta(days=7):
        return fields
    received = decided + timedelta(days=rng.randint(2, 5))
    fields.update(status=ReturnStatus.CLOSED, received_at=received, closed_at=received)
    return fields


@transaction.atomic
def returns_seed_demo(*, seed: int) -> int:
    """Returns of some delivered demo parcels; returns how many (0 when there are some)."""
    if ReturnRequest.objects.exists():
        return 0
    rng = random.Random(f"{seed}-returns")
    now = timezone.now()
    window = timedelta(days=int(settings.RETURN_WINDOW_DAYS))
    parcels = (
        Shipment.objects.filter(status=ShipmentStatus.DELIVERED, is_exchange=False)
        .select_related("order")
        .order_by("id")
    )
    made = 0
    for shipment in parcels.iterator(chunk_size=500):
        if shipment.delivered_at is None or rng.random() >= RETURN_SHARE:
            continue
        lines = list(
            OrderLine.objects.filter(
                order_id=shipment.order_id, store_id=shipment.store_id
            ).order_by("id")
        )
        line = rng.choice(lines)
        fields = _state(rng, shipment.delivered_at, min(now, shipment.delivered_at + window))
        reason = rng.choices([r for r, _ in REASONS], [w for _, w in REASONS])[0]
        closed = fields["status"] == ReturnStatus.CLOSED
        request = ReturnRequest.objects.create(
            order_id=shipment.order_id,
            shipment=shipment,
            store_id=shipment.store_id,
            customer_id=shipment.order.customer_id,
            refund_amount=line.unit_price if closed else Decimal("0.00"),
            **fields,
        )
        ReturnLine.objects.create(
            request=request,
            order_line=line,
            quantity=1,
            reason=reason,
            received_sellable=1 if closed else 0,
            refund_amount=line.unit_price if closed else Decimal("0.00"),
        )
        # created_at is set on insert; keep the planned one.
        ReturnRequest.objects.filter(pk=request.pk).update(created_at=fields["created_at"])
        made += 1
    return made
