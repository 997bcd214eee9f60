"""The provider's account of a payout, applied once: queued → in transit (sent), succeeded
→ paid (announced), failed → failed and reversed after payment → reversed, both putting
the amount back in the store's available balance. Answers that come too late for the
payout's state change nothing, and the provider's transfer id is kept from its first
answer."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.common.events import Event, subscribe
from apps.payments.providers.base import TransferResult
from apps.payouts.events import PayoutFailed, PayoutPaid
from apps.payouts.models import Payout, PayoutStatus
from apps.payouts.services import ledger_adjust, payout_apply, payout_create
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent, balance_of
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def announced(clean_event_handlers: None) -> Iterator[list[Event]]:
    seen: list[Event] = []
    for event_type in (PayoutPaid, PayoutFailed):
        subscribe(event_type)(seen.append)
    yield seen


@pytest.fixture
def payout(payment_sandbox: SandboxServer) -> Payout:
    shop = f.store()
    f.destination(payment_sandbox, shop)
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D("70.00"),
        direction="credit",
        reason="x",
        actor=None,
    )
    made = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(made, Payout)
    return made


def _apply(payout: Payout, state: Any, transfer_id: str = "", capture: Any = None) -> Payout:
    with capture(execute=True):
        payout_apply(payout_id=payout.pk, result=TransferResult(state, transfer_id, "no funds"))
    return Payout.objects.get(pk=payout.pk)


def test_sent_then_paid(
    payout: Payout, announced: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    before = timezone.now()

    sent = _apply(payout, "pending", "TRF_1", capture)
    assert (sent.status, sent.provider_transfer_id) == (PayoutStatus.IN_TRANSIT, "TRF_1")
    assert sent.sent_at is not None and sent.sent_at >= before and sent.paid_at is None

    paid = _apply(payout, "succeeded", "TRF_other", capture)
    assert (paid.status, paid.provider_transfer_id, paid.sent_at) == (
        PayoutStatus.PAID,
        "TRF_1",
        sent.sent_at,
    )
    assert paid.paid_at is not None and paid.paid_at >= sent.sent_at
    assert announced == [PayoutPaid(payout_id=payout.pk)]
    assert balance_of(payout.store_id)["paid_out"] == D("70.00")

    # a late "failed" for a paid payout changes nothing
    assert _apply(payout, "failed", "", capture).status == PayoutStatus.PAID
    assert announced == [PayoutPaid(payout_id=payout.pk)]
    assert_ledger_consistent()


def test_paid_straight_away_is_sent_and_paid_at_once(
    payout: Payout, announced: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    paid = _apply(payout, "succeeded", "TRF_2", django_capture_on_commit_callbacks)

    assert (paid.status, paid.provider_transfer_id) == (PayoutStatus.PAID, "TRF_2")
    assert paid.sent_at is not None and paid.sent_at == paid.paid_at


def test_a_failed_transfer_puts_the_money_back_once(
    payout: Payout, announced: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    failed = _apply(payout, "failed", "", django_capture_on_commit_callbacks)
    again = _apply(payout, "failed", "", django_capture_on_commit_callbacks)

    assert (failed.status, failed.failure_reason) == (PayoutStatus.FAILED, "no funds")
    assert again.failed_at == failed.failed_at
    assert balance_of(payout.store_id)["available"] == D("70.00")
    assert announced == [PayoutFailed(payout_id=payout.pk, reversed=False)]
    assert_ledger_consistent()


def test_a_paid_transfer_that_comes_back_is_reversed_and_the_money_returned(
    payout: Payout, announced: list[Event], django_capture_on_commit_callbacks: Any
) -> None:
    _apply(payout, "succeeded", "TRF_3", django_capture_on_commit_callbacks)

    reversed_ = _apply(payout, "reversed", "", django_capture_on_commit_callbacks)

    assert reversed_.status == PayoutStatus.REVERSED
    assert balance_of(payout.store_id)["available"] == D("70.00")
    assert balance_of(payout.store_id)["paid_out"] == D("0.00")
    assert announced == [
        PayoutPaid(payout_id=payout.pk),
        PayoutFailed(payout_id=payout.pk, reversed=True),
    ]
    assert_ledger_consistent()
