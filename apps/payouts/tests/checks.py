"""The ledger's invariants, checked after every scenario."""

from __future__ import annotations

from decimal import Decimal

from apps.payouts.models import BUCKETS, LedgerEntry, StoreBalance


def assert_ledger_consistent() -> None:
    """Per store and currency: each bucket of the balance is the sum of the entries'
    moves in it and the last entry's ``*_after``; what the store is owed (pending +
    available - debt) is the sum of the entries' amounts; nothing is negative and a debt
    leaves nothing available."""
    for balance in StoreBalance.objects.all():
        entries = LedgerEntry.objects.filter(store_id=balance.store_id, currency=balance.currency)
        # Summed here, in Decimal: SQLite's SUM of decimals is a float.
        columns = ("amount", *BUCKETS)
        rows = list(entries.values_list(*columns))
        sums = {name: sum((row[i] for row in rows), Decimal(0)) for i, name in enumerate(columns)}
        last = entries.order_by("-id").first()
        for bucket in BUCKETS:
            value = getattr(balance, bucket)
            assert value == sums[bucket], (balance, bucket)
            assert last is None or getattr(last, f"{bucket}_after") == value, (balance, bucket)
            assert value >= 0, (balance, bucket)
        owed = balance.pending + balance.available - balance.debt
        assert owed == sums["amount"], balance
        assert balance.available == 0 or balance.debt == 0, balance


def balance_of(store_id: int, currency: str = "NGN") -> dict[str, Decimal]:
    balance = StoreBalance.objects.filter(store_id=store_id, currency=currency).first()
    return {b: getattr(balance, b) if balance else Decimal("0.00") for b in BUCKETS}
