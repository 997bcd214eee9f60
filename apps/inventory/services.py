"""Writes on stock. Every change is one conditional UPDATE plus one ledger row, inside the
caller's transaction; the database CHECK constraints are the last line of defence."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from django.db import transaction
from django.db.models import F

from apps.authentication.models import User
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed
from apps.inventory.models import MANUAL_REASONS, MovementReason, Stock, StockMovement

logger = structlog.get_logger(__name__)

MAX_ADJUSTMENT = 1_000_000


def _record(
    *,
    variant_id: int,
    on_hand_delta: int,
    reserved_delta: int,
    reason: str,
    actor: User | None,
    note: str = "",
    order_id: int | None = None,
) -> StockMovement:
    on_hand, reserved = Stock.objects.filter(variant_id=variant_id).values_list(
        "on_hand", "reserved"
    )[0]
    return StockMovement.objects.create(
        variant_id=variant_id,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand,
        reserved_after=reserved,
        reason=reason,
        note=note[:255],
        actor=actor,
        order_id=order_id,
    )


@transaction.atomic
def stock_initialise(
    *, variant_id: int, on_hand: int, actor: User | None, field: str = "stock"
) -> Stock:
    """Create the stock row of a new variant (with an ``initial`` ledger row when it starts
    with units). Raises ``ValidationFailed`` naming ``field`` for a negative quantity."""
    if on_hand < 0:
        raise ValidationFailed.for_field(field, "Stock cannot be negative.", "min_value")
    stock = Stock.objects.create(variant_id=variant_id, on_hand=on_hand)
    if on_hand:
        _record(
            variant_id=variant_id,
            on_hand_delta=on_hand,
            reserved_delta=0,
            reason=MovementReason.INITIAL,
            actor=actor,
        )
    return stock


@transaction.atomic
def stock_adjust(
    *,
    variant_id: int,
    delta: int,
    reason: str,
    actor: User | None,
    note: str = "",
) -> StockMovement:
    """Add (positive ``delta``) or remove (negative) units on hand of one variant.

    Units reserved for orders cannot be removed: the update only applies while
    ``on_hand + delta >= reserved``. Raises ``ValidationFailed`` naming ``delta`` (zero,
    too large, or more than is available) or ``reason``; ``NotFound`` for an unknown variant.
    """
    if reason not in MANUAL_REASONS:
        raise ValidationFailed.for_field(
            "reason", f"Must be one of: {', '.join(MANUAL_REASONS)}.", "invalid_choice"
        )
    if delta == 0:
        raise ValidationFailed.for_field("delta", "A change of zero changes nothing.", "zero")
    if abs(delta) > MAX_ADJUSTMENT:
        raise ValidationFailed.for_field(
            "delta", f"At most {MAX_ADJUSTMENT} units at a time.", "max_value"
        )
    updated = Stock.objects.filter(
        variant_id=variant_id, on_hand__gte=F("reserved") - delta
    ).update(on_hand=F("on_hand") + delta)
    if not updated:
        stock = Stock.objects.filter(variant_id=variant_id).first()
        if stock is None:
            raise NotFound("Variant not found.", code="variant_not_found")
        raise ValidationFailed(
            f"Only {stock.available} units can be removed.",
            code="insufficient_stock",
            field_errors=[
                FieldError(
                    "delta",
                    f"Would leave stock below zero: {stock.available} available.",
                    "insufficient_stock",
                )
            ],
            details={"available": stock.available},
        )
    movement = _record(
        variant_id=variant_id,
        on_hand_delta=delta,
        reserved_delta=0,
        reason=reason,
        actor=actor,
        note=note,
    )
    logger.info("stock.adjusted", variant_id=variant_id, delta=delta, reason=reason)
    return movement


@transaction.atomic
def stock_reserve(
    *, items: Iterable[tuple[int, int]], order_id: int | None, actor: User | None = None
) -> None:
    """Reserve ``quantity`` units of each ``(variant_id, quantity)`` for an order, all or
    nothing. Rows are updated in variant-id order so concurrent orders cannot deadlock;
    each update only applies while enough units are available, so nothing oversells.

    Raises ``Conflict`` (code ``insufficient_stock``, ``details.variant_ids``).
    """
    wanted: dict[int, int] = {}
    for variant_id, quantity in items:
        if quantity <= 0:
            raise ValidationFailed.for_field("quantity", "Must be at least 1.", "min_value")
        wanted[variant_id] = wanted.get(variant_id, 0) + quantity
    short: list[int] = []
    for variant_id in sorted(wanted):
        quantity = wanted[variant_id]
        updated = Stock.objects.filter(
            variant_id=variant_id, on_hand__gte=F("reserved") + quantity
        ).update(reserved=F("reserved") + quantity)
        if not updated:
            short.append(variant_id)
    if short:
        # Raising rolls back the reservations already made in this transaction.
        raise Conflict(
            "Not enough stock.", code="insufficient_stock", details={"variant_ids": short}
        )
    for variant_id in sorted(wanted):
        _record(
            variant_id=variant_id,
            on_hand_delta=0,
            reserved_delta=wanted[variant_id],
            reason=MovementReason.RESERVED,
            actor=actor,
            order_id=order_id,
        )


@transaction.atomic
def stock_release(
    *, items: Iterable[tuple[int, int]], order_id: int | None, actor: User | None = None
) -> None:
    """Give back reserved units (an order cancelled or expired). Never releases more than
    is reserved."""
    for variant_id, quantity in sorted(items):
        updated = Stock.objects.filter(variant_id=variant_id, reserved__gte=quantity).update(
            reserved=F("reserved") - quantity
        )
        if updated:
            _record(
                variant_id=variant_id,
                on_hand_delta=0,
                reserved_delta=-quantity,
                reason=MovementReason.RELEASED,
                actor=actor,
                order_id=order_id,
            )


@transaction.atomic
def stock_commit(
    *, items: Iterable[tuple[int, int]], order_id: int | None, actor: User | None = None
) -> None:
    """Turn reserved units into sold ones (an order was paid): on hand and reserved both
    drop. Raises ``Conflict`` (``reservation_missing``) if a reservation is not there,
    which would mean the order's stock was already released."""
    for variant_id, quantity in sorted(items):
        updated = Stock.objects.filter(
            variant_id=variant_id, reserved__gte=quantity, on_hand__gte=quantity
        ).update(on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity)
        if not updated:
            raise Conflict(
                "The order's stock is no longer reserved.",
                code="reservation_missing",
                details={"variant_id": variant_id},
            )
        _record(
            variant_id=variant_id,
            on_hand_delta=-quantity,
            reserved_delta=-quantity,
            reason=MovementReason.SOLD,
            actor=actor,
            order_id=order_id,
        )
