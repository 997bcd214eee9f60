"""What staff do to a store's money: adjust its balance, hold and release its payouts.
Each is recorded with who did it and why (``StaffAction``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

import structlog
from django.db import IntegrityError, transaction

from apps.authentication.models import User
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.payouts.exceptions import InsufficientAvailable
from apps.payouts.models import (
    EntryKind,
    LedgerEntry,
    PayoutHold,
    StaffAction,
    StaffActionKind,
)
from apps.payouts.rounding import minor_unit
from apps.payouts.services.ledger import balance_locked, entry_post, to_available
from apps.payouts.services.payouts import reason_clean
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

Direction = Literal["credit", "debit"]
MAX_ADJUSTMENT = Decimal("1000000000.00")


def _store(store_id: int) -> Store:
    store = Store.objects.filter(pk=store_id).first() if 0 < store_id < 2**63 else None
    if store is None:
        raise NotFound("Store not found.", code="store_not_found")
    return store


def ledger_adjust(
    *,
    store_id: int,
    currency: str,
    amount: Decimal,
    direction: Direction,
    reason: str,
    actor: User | None,
) -> LedgerEntry:
    """Credit or debit a store's available balance by hand (a goodwill credit, a fee),
    with a reason. A credit pays any debt back first; a debit may not take more than is
    available. Raises ``NotFound``, ``ValidationFailed`` (``currency``, ``amount``,
    ``direction``, ``reason``) and ``InsufficientAvailable``."""
    why = reason_clean(reason)
    code = (currency or "").upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationFailed.for_field("currency", "A three-letter ISO 4217 code.")
    if direction not in ("credit", "debit"):
        raise ValidationFailed.for_field("direction", "credit or debit.", "invalid_choice")
    unit = minor_unit(code)
    if not (amount.is_finite() and unit <= amount <= MAX_ADJUSTMENT) or amount % unit:
        raise ValidationFailed.for_field(
            "amount", f"Between {unit} and {MAX_ADJUSTMENT}, in whole {unit}.", "out_of_range"
        )
    store = _store(store_id)
    with transaction.atomic():
        balance = balance_locked(store.pk, code)
        signed = amount if direction == "credit" else -amount
        if direction == "debit" and balance.available < amount:
            raise InsufficientAvailable(
                "A debit may not take more than is available.",
                details={"available": str(balance.available), "currency": code},
            )
        available, debt = to_available(balance, signed)
        entry = entry_post(
            balance,
            kind=EntryKind.ADJUSTMENT,
            key=f"adjustment:{uuid.uuid4().hex}",
            amount=signed,
            available=available,
            debt=debt,
            actor=actor,
            reason=why,
        )
        assert entry is not None  # a fresh key
        StaffAction.objects.create(
            actor=actor,
            kind=StaffActionKind.ADJUST,
            store=store,
            reason=why,
            details={"entry_id": entry.pk, "amount": str(signed), "currency": code},
        )
    logger.info(
        "ledger.adjusted",
        store_id=store.pk,
        currency=code,
        amount=str(signed),
        actor_id=actor.pk if actor else None,
    )
    return entry


def payouts_hold(*, store_id: int, reason: str, actor: User | None) -> PayoutHold:
    """Stop a store's payouts until released (runs skip it; money keeps accruing).
    Raises ``NotFound``, ``ValidationFailed`` (``reason``), ``Conflict``
    (``payouts_already_held``)."""
    why = reason_clean(reason)
    store = _store(store_id)
    try:
        with transaction.atomic():
            hold = PayoutHold.objects.create(store=store, reason=why, actor=actor)
            StaffAction.objects.create(
                actor=actor, kind=StaffActionKind.HOLD, store=store, reason=why
            )
    except IntegrityError as error:
        raise Conflict(
            "This store's payouts are already held.", code="payouts_already_held"
        ) from error
    logger.info("payouts.held", store_id=store.pk, actor_id=actor.pk if actor else None)
    return hold


def payouts_release(*, store_id: int, reason: str, actor: User | None) -> Store:
    """Let a held store be paid again from the next run. Raises ``NotFound``,
    ``ValidationFailed`` (``reason``), ``Conflict`` (``payouts_not_held``)."""
    why = reason_clean(reason)
    store = _store(store_id)
    with transaction.atomic():
        deleted, _ = PayoutHold.objects.filter(store=store).delete()
        if not deleted:
            raise Conflict("This store's payouts are not held.", code="payouts_not_held")
        StaffAction.objects.create(
            actor=actor, kind=StaffActionKind.RELEASE, store=store, reason=why
        )
    logger.info("payouts.released", store_id=store.pk, actor_id=actor.pk if actor else None)
    return store
