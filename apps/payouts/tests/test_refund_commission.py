"""Commission given back on refunds, over several refunds of one order: each refund gives
back only what the refunded share adds, so the total given back is the commission on what
was refunded in all — and a part refunded in full gives back exactly its commission."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.payouts.models import EntryKind, LedgerEntry
from apps.payouts.services import refund_record
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent, balance_of

pytestmark = pytest.mark.django_db

D = Decimal


def _commission_back(store_id: int) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(store_id=store_id, kind=EntryKind.COMMISSION_REFUND)
        .order_by("id")
        .values_list("amount", flat=True)
    )


def test_three_partial_refunds_give_back_the_commission_once_in_total() -> None:
    shop = f.store("10.00")
    order = f.paid([(f.variant(shop, "1000.00"), 1)])

    for amount in ("250.00", "250.00", "500.00"):
        assert refund_record(refund_id=f.refunded(order, amount).pk) == "recorded"

    assert _commission_back(shop.pk) == [D("25.00"), D("25.00"), D("50.00")]
    assert balance_of(shop.pk)["pending"] == D("0.00")
    assert_ledger_consistent()


def test_uneven_refunds_round_the_running_total_not_each_refund() -> None:
    shop = f.store("10.00")
    order = f.paid([(f.variant(shop, "100.00"), 1)])

    for _ in range(3):
        refund_record(refund_id=f.refunded(order, "33.33").pk)

    # 10 % of 33.33, 66.66 and 99.99 refunded so far, each rounded: 3.33, 6.67 and 10.00
    assert _commission_back(shop.pk) == [D("3.33"), D("3.34"), D("3.33")]
    assert sum(_commission_back(shop.pk)) == D("10.00")
    assert_ledger_consistent()
