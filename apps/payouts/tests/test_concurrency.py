"""Vendor money under concurrency on PostgreSQL: threads, each with its own connection,
started together. Payout runs racing pay each store once; a refund racing a payout
leaves the ledger adding up (the payout takes what was there, the refund the rest as
debt, or the other way round); a payout's webhook racing the reconciler gives the money
back once and tells the vendor once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.payments.tests.test_concurrency import _together
from apps.payouts.models import (
    Earning,
    EntryKind,
    LedgerEntry,
    Payout,
    PayoutRun,
    PayoutStatus,
    StoreBalance,
)
from apps.payouts.services import (
    earnings_release_due,
    payout_create,
    payout_run_execute,
    payout_settle,
    refund_record,
)
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent
from apps.vendors.models import Store
from tools.sandbox import SandboxServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def _stores_with_money(sandbox: SandboxServer, time_machine: Any, count: int) -> list[Store]:
    time_machine.move_to(timezone.now(), tick=False)
    stores = []
    for index in range(count):
        shop = f.store("10.00")
        f.destination(sandbox, shop)
        f.delivered(f.paid([(f.variant(shop, f"{100 + index}.00"), 2)]))
        stores.append(shop)
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    return stores


def _no_errors(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors


def _catching(action: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return action()
        except Exception as error:
            return error

    return run


def test_payout_runs_racing_pay_each_store_once(
    payment_sandbox: SandboxServer, time_machine: Any
) -> None:
    # Given eight stores with money available and three runs (two of one key)
    stores = _stores_with_money(payment_sandbox, time_machine, 8)
    weekly = PayoutRun.objects.create(period_key="scheduled:2026-05-07")
    extra = PayoutRun.objects.create(period_key="staff:2026-05-07T10:00")

    # When they all run at once
    results = _together(
        [
            _catching(lambda: payout_run_execute(run_id=weekly.pk)),
            _catching(lambda: payout_run_execute(run_id=weekly.pk)),
            _catching(lambda: payout_run_execute(run_id=extra.pk)),
            _catching(lambda: payout_run_execute(run_id=extra.pk)),
        ]
    )

    # Then each store got one payout of all it had, and the provider one transfer each
    _no_errors(results)
    for shop in stores:
        [payout] = Payout.objects.filter(store=shop)
        balance = StoreBalance.objects.get(store=shop)
        assert (balance.available, balance.paid_out) == (D("0.00"), payout.amount)
    references = [t["reference"] for t in payment_sandbox.transfers()["transfers"]]
    assert len(references) == len(set(references)) == len(stores)
    assert_ledger_consistent()


def test_refunds_racing_payouts_keep_the_ledger_adding_up(
    payment_sandbox: SandboxServer, time_machine: Any
) -> None:
    # Given six stores with 180.00 (+ their index) available each, and a refund of 50.00
    # of each one's order waiting to be recorded
    stores = _stores_with_money(payment_sandbox, time_machine, 6)
    refunds = {
        shop.pk: f.refunded(Earning.objects.get(store=shop).order, "50.00") for shop in stores
    }

    # When each store's payout and its refund are recorded at the same time
    actions: list[Callable[[], Any]] = []
    for shop in stores:
        actions.append(_catching(partial(payout_create, store_id=shop.pk, currency="NGN")))
        actions.append(_catching(partial(refund_record, refund_id=refunds[shop.pk].pk)))
    results = _together(actions)

    # Then both happened, once, in one order or the other: the store is paid out what
    # was there when its payout was made, and owes or keeps the rest
    _no_errors(results)
    for shop in stores:
        [payout] = Payout.objects.filter(store=shop)
        sold = Earning.objects.get(store=shop)
        balance = StoreBalance.objects.get(store=shop)
        before = sold.gross - sold.commission  # 90 % of the sale
        after_refund = sold.net_remaining  # less 45.00 (50 less its commission)
        assert sold.net_remaining == before - D("45.00")
        assert payout.amount in (before, after_refund)
        assert balance.available - balance.debt == after_refund - payout.amount
        assert LedgerEntry.objects.filter(store=shop, kind=EntryKind.REFUND).count() == 1
    assert_ledger_consistent()


def test_a_payout_webhook_racing_the_reconciler_settles_it_once(
    payment_sandbox: SandboxServer, time_machine: Any
) -> None:
    # Given a Paystack payout the provider failed after queueing it
    [shop] = _stores_with_money(payment_sandbox, time_machine, 1)
    payment_sandbox.set_behaviour("*", "transfer_fails_later", times=1)
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert not isinstance(payout, str)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT  # sent after its commit
    [webhook] = [w for w in payment_sandbox.sent_webhooks if w["type"] == "transfer.failed"]
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in webhook["headers"].items()
        if k.lower() != "content-type"
    }
    mail.outbox.clear()

    def deliver() -> Any:
        return (
            Client()
            .post(
                "/api/v2/webhooks/paystack/",
                webhook["body"],
                content_type="application/json",
                **headers,
            )
            .status_code
        )

    # When the webhook (twice) and the reconciler (three times) settle it at once
    results = _together(
        [
            _catching(deliver),
            _catching(deliver),
            *[_catching(lambda: payout_settle(payout_id=payout.pk)) for _ in range(3)],
        ]
    )

    # Then it failed once: the money came back once and the vendor heard once
    _no_errors(results)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYOUT_REVERSAL).count() == 1
    balance = StoreBalance.objects.get(store=shop)
    assert (balance.available, balance.paid_out) == (payout.amount, D("0.00"))
    assert [m.to for m in mail.outbox if "failed" in m.subject] == [[shop.owner.email]]
    assert_ledger_consistent()
