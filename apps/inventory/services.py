"""Writes on stock. Every change is a conditional UPDATE plus a ledger row per variant,
inside the caller's transaction; the database CHECK constraints are the last line of
defence."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

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


def _locked_levels(variant_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """``{variant_id: (on_hand, reserved)}`` of the variants that have a stock row, each
    row locked until the transaction ends."""
    # One statement locks every row, in variant-id order: all writers that touch several
    # rows take them in that order, so two orders sharing variants cannot deadlock. SQLite
    # has no row locks (no FOR UPDATE); its IMMEDIATE transactions admit one writer at a
    # time, which serialises reservations just the same.
    rows = (
        Stock.objects.select_for_update()
        .filter(variant_id__in=variant_ids)
        .order_by("variant_id")
        .values_list("variant_id", "on_hand", "reserved")
    )
    return {variant_id: (on_hand, reserved) for variant_id, on_hand, reserved in rows}


def _short_of(wanted: dict[int, int], levels: dict[int, tuple[int, int]]) -> list[int]:
    return [
        variant_id
        for variant_id in sorted(wanted)
        if variant_id not in levels
        or levels[variant_id][0] - levels[variant_id][1] < wanted[variant_id]
    ]


@transaction.atomic
def stock_reserve(
    *, items: Iterable[tuple[int, int]], order_id: int | None, actor: User | None = None
) -> None:
    """Reserve ``quantity`` units of each ``(variant_id, quantity)`` for an order, all or
    nothing (quantities of one variant are summed). The stock rows are locked in
    variant-id order so concurrent orders cannot deadlock, and the update only applies
    where enough units are available, so nothing oversells. A fixed number of queries
    however many items: one locking read, one UPDATE, one ledger insert.

    Raises ``Conflict`` (code ``insufficient_stock``, ``details.variant_ids``) and
    ``ValidationFailed`` (``quantity``) for a quantity below 1.
    """
    wanted: dict[int, int] = {}
    for variant_id, quantity in items:
        if quantity <= 0:
            raise ValidationFailed.for_field("quantity", "Must be at least 1.", "min_value")
        wanted[variant_id] = wanted.get(variant_id, 0) + quantity
    if not wanted:
        return
    levels = _locked_levels(sorted(wanted))
    # Deciding from the locked rows means a refused order writes nothing (no row versions
    # to undo on the very rows everybody is queueing for).
    short = _short_of(wanted, levels)
    if short:
        raise Conflict(
            "Not enough stock.", code="insufficient_stock", details={"variant_ids": short}
        )
    quantity_of = Case(
        *(When(variant_id=variant_id, then=Value(n)) for variant_id, n in wanted.items()),
        output_field=IntegerField(),
    )
    # The condition repeats the check in SQL, so nothing oversells even if the rows were
    # somehow not locked; the row count tells.
    updated = Stock.objects.filter(
        variant_id__in=list(wanted), on_hand__gte=F("reserved") + quantity_of
    ).update(reserved=F("reserved") + quantity_of)
    if updated != len(wanted):
        # Cannot happen while the rows are locked: fail loudly (the savepoint undoes the
        # partial update) rather than name lines that looked available a moment ago.
        raise RuntimeError(f"stock changed under lock: {updated} of {len(wanted)} rows")
    # The rows are locked, so the levels read above plus this change are the levels now.
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                variant_id=variant_id,
                on_hand_delta=0,
                reserved_delta=wanted[variant_id],
                on_hand_after=levels[variant_id][0],
                reserved_after=levels[variant_id][1] + wanted[variant_id],
                reason=MovementReason.RESERVED,
                actor=actor,
                order_id=order_id,
            )
            for variant_id in sorted(wanted)
        ]
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


@transaction.atomic
def stock_return(
    *, items: Iterable[tuple[int, int]], order_id: int | None, actor: User | None = None
) -> None:
    """Put units a customer sent back, in a condition to sell again, back on hand
    (ledger ``returned``)."""
    for variant_id, quantity in sorted(items):
        if quantity <= 0:
            continue
        updated = Stock.objects.filter(variant_id=variant_id).update(
            on_hand=F("on_hand") + quantity
        )
        if updated:
            _record(
                variant_id=variant_id,
                on_hand_delta=quantity,
                reserved_delta=0,
                reason=MovementReason.RETURNED,
                actor=actor,
                order_id=order_id,
            )
