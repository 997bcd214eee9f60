"""Writing the ledger: lock a store's balance, append an entry, move the balance by it.

Every entry is written with its balance row locked (``SELECT … FOR UPDATE``), so the
entries of one store and currency are written one at a time, in id order, and the
balance always equals their sum. Balances are locked in (store, currency) order, so two
writers touching several never deadlock. An entry's ``key`` is unique: writing the same
source twice is refused by the database, and ``entry_post`` answers None instead of
writing when the key is already there.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from apps.common.errors import Conflict
from apps.payouts.models import ZERO, EntryKind, LedgerEntry, StoreBalance


def balance_locked(store_id: int, currency: str) -> StoreBalance:
    """The store's balance in ``currency``, created at zero if new, locked until the
    surrounding transaction ends."""
    locked = StoreBalance.objects.select_for_update().filter(store_id=store_id, currency=currency)
    balance = locked.first()
    if balance is None:
        try:
            with transaction.atomic():
                StoreBalance.objects.create(store_id=store_id, currency=currency)
        except IntegrityError:  # created meanwhile by another writer: lock theirs
            pass
        balance = locked.get()
    return balance


def balances_locked(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], StoreBalance]:
    """Several balances, locked in (store, currency) order."""
    return {pair: balance_locked(*pair) for pair in sorted(set(pairs))}


def to_available(balance: StoreBalance, amount: Decimal) -> tuple[Decimal, Decimal]:
    """How ``amount`` (signed) moves ``(available, debt)``: money coming in pays any debt
    back first; money going out takes what is available and the rest becomes debt."""
    if amount >= 0:
        repaid = min(balance.debt, amount)
        return amount - repaid, -repaid
    taken = min(balance.available, -amount)
    return -taken, -amount - taken


def entry_post(
    balance: StoreBalance,
    *,
    kind: EntryKind,
    key: str,
    amount: Decimal,
    pending: Decimal = ZERO,
    available: Decimal = ZERO,
    debt: Decimal = ZERO,
    paid_out: Decimal = ZERO,
    **links: Any,
) -> LedgerEntry | None:
    """Append one entry to the locked ``balance`` and move the balance by it. Returns
    None (nothing written) when an entry with ``key`` exists. Raises ``Conflict`` when a
    bucket would go below zero (the database's check would refuse it too)."""
    if LedgerEntry.objects.filter(key=key).exists():
        return None
    after = {
        "pending": balance.pending + pending,
        "available": balance.available + available,
        "debt": balance.debt + debt,
        "paid_out": balance.paid_out + paid_out,
    }
    if min(after.values()) < 0:
        raise Conflict(
            "This would take a balance below zero.",
            code="balance_negative",
            details={"kind": str(kind), **{k: str(v) for k, v in after.items()}},
        )
    entry = LedgerEntry.objects.create(
        store_id=balance.store_id,
        currency=balance.currency,
        kind=kind,
        key=key,
        amount=amount,
        pending=pending,
        available=available,
        debt=debt,
        paid_out=paid_out,
        pending_after=after["pending"],
        available_after=after["available"],
        debt_after=after["debt"],
        paid_out_after=after["paid_out"],
        **links,
    )
    for name, value in after.items():
        setattr(balance, name, value)
    balance.save(update_fields=[*after, "updated_at"])
    return entry
