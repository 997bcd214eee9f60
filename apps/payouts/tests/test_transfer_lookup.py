"""Settling a payout named by a provider's webhook: the reference must be one of ours at
that provider, and a payout already sent whose transfer the provider cannot find raises
an alert (a pending one is simply sent again later)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from apps.payments.providers.base import TransferResult
from apps.payouts.models import Payout, PayoutStatus
from apps.payouts.services import (
    ledger_adjust,
    payout_apply,
    payout_create,
    payout_settle,
    payout_settle_reported,
)
from apps.payouts.tests import factories as f
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

JsonLogs = Callable[[], list[dict[str, Any]]]


def _open_payout(sandbox: SandboxServer) -> Payout:
    shop = f.store()
    f.destination(sandbox, shop)
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=Decimal("60.00"),
        direction="credit",
        reason="x",
        actor=None,
    )
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(payout, Payout)
    return payout


def test_a_reference_is_looked_up_at_the_provider_that_reported_it(
    payment_sandbox: SandboxServer,
) -> None:
    payout = _open_payout(payment_sandbox)

    assert payout_settle_reported(provider="stripe", reference=payout.reference) == (
        "unknown payout"
    )
    # ours at Paystack: asked about there (not sent yet, so the provider has no transfer)
    assert payout_settle_reported(provider="paystack", reference=payout.reference) == "unknown"
    assert Payout.objects.get().status == PayoutStatus.PENDING


def test_a_sent_payout_the_provider_cannot_find_raises_an_alert(
    payment_sandbox: SandboxServer, json_logs: JsonLogs
) -> None:
    pending = _open_payout(payment_sandbox)
    assert payout_settle(payout_id=pending.pk) == "unknown"
    assert not [line for line in json_logs() if line.get("alert")]

    payout_apply(payout_id=pending.pk, result=TransferResult(state="pending", transfer_id="TRF_9"))
    assert Payout.objects.get().status == PayoutStatus.IN_TRANSIT

    assert payout_settle(payout_id=pending.pk) == "unknown"
    alerts = [line for line in json_logs() if line.get("alert")]
    assert [(a["message"], a["payout_id"]) for a in alerts] == [
        ("payout.transfer_missing", pending.pk)
    ]
