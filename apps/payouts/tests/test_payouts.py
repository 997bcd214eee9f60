"""Payouts against the provider sandbox (real adapters over HTTP): a run pays each
eligible store once per currency, however it is repeated; the provider's webhooks and the
reconciler settle it; a refusal, a later failure or a reversal puts the money back and
tells the vendor; a lost answer is looked up, never sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.common.errors import ValidationFailed
from apps.payouts.exceptions import PayoutNotRetryable
from apps.payouts.models import (
    DestinationStatus,
    EntryKind,
    LedgerEntry,
    Payout,
    PayoutDestination,
    PayoutRun,
    PayoutStatus,
    StaffAction,
)
from apps.payouts.services import (
    earnings_release_due,
    ledger_adjust,
    payout_destination_register,
    payout_retry,
    payout_run_start,
    payout_send,
    payouts_hold,
)
from apps.payouts.services.transfers import RETRY_WAIT
from apps.payouts.tasks import IN_TRANSIT_CHECK_AFTER, reconcile_payouts, run_scheduled_payouts
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent, balance_of
from apps.vendors.models import Store
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

D = Decimal


class Market:
    """Stores with money available, the sandbox, and a way to run things after commit."""

    def __init__(self, sandbox: SandboxServer, capture: Any, time_machine: Any) -> None:
        self.sandbox = sandbox
        self.capture = capture
        self.clock = time_machine
        time_machine.move_to(timezone.now(), tick=False)

    def store_with(self, amount: str, provider: str = "paystack", rate: str = "0.00") -> Store:
        """A store with ``amount`` available (sold, delivered, hold over) and a verified
        destination at ``provider``."""
        shop = f.store(rate)
        if provider:
            f.destination(self.sandbox, shop, provider)
        f.delivered(f.paid([(f.variant(shop, amount), 1)]))
        return shop

    def release(self) -> None:
        self.clock.shift(timedelta(days=8))
        earnings_release_due()

    def run(self, key: str = "week-1") -> PayoutRun:
        with self.capture(execute=True):
            run, _ = payout_run_start(period_key=key)
        run.refresh_from_db()
        return run

    def webhooks(self, kind: str = "transfer") -> list[dict[str, Any]]:
        return [w for w in self.sandbox.sent_webhooks if str(w["type"]).startswith(kind)]

    def deliver(self, webhook: dict[str, Any]) -> Any:
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in webhook["headers"].items()
            if k.lower() != "content-type"
        }
        with self.capture(execute=True):
            return Client().post(
                f"/api/v2/webhooks/{webhook['provider']}/",
                webhook["body"],
                content_type="application/json",
                **headers,
            )

    def transfers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sandbox.transfers()["transfers"]
        return found

    def reconcile(self) -> None:
        with self.capture(execute=True):
            reconcile_payouts.enqueue()


@pytest.fixture
def market(
    payment_sandbox: SandboxServer, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> Iterator[Market]:
    yield Market(payment_sandbox, django_capture_on_commit_callbacks, time_machine)


def test_a_run_pays_each_store_once_and_the_webhook_settles_it(market: Market) -> None:
    # Given two stores with money available, one without a destination
    first = market.store_with("1200.00")
    second = market.store_with("800.00", provider="stripe")
    unpaid = market.store_with("500.00", provider="")
    market.release()
    mail.outbox.clear()

    # When the run starts, and starts again (a redelivered tick, a double click)
    run = market.run("week-1")
    again = market.run("week-1")
    other = market.run("week-1-repeat")

    # Then each store with a destination got one payout of all it had, once
    assert again.pk == run.pk and run.payouts_created == 2
    assert other.payouts_created == 0
    assert run.stores_skipped == {f"{unpaid.pk}:NGN": "no_verified_destination"}
    paystack = Payout.objects.get(store=first)
    stripe = Payout.objects.get(store=second)
    assert (paystack.amount, paystack.status) == (D("1200.00"), PayoutStatus.IN_TRANSIT)
    assert (stripe.amount, stripe.status) == (D("800.00"), PayoutStatus.PAID)  # immediate
    assert sorted(t["amount"] for t in market.transfers()) == [80000, 120000]
    assert balance_of(first.pk) == {
        "pending": D("0.00"),
        "available": D("0.00"),
        "debt": D("0.00"),
        "paid_out": D("1200.00"),
    }

    # When Paystack's signed webhook arrives (twice)
    [webhook] = market.webhooks("transfer.success")
    assert market.deliver(webhook).status_code == 200
    assert market.deliver(webhook).json()["duplicate"] is True

    # Then the payout is paid and its vendor told, once
    paystack.refresh_from_db()
    assert paystack.status == PayoutStatus.PAID and paystack.paid_at is not None
    sent = [m for m in mail.outbox if "Payout of NGN" in m.subject and "sent" in m.subject]
    assert sorted(m.to[0] for m in sent) == sorted([first.owner.email, second.owner.email])
    assert_ledger_consistent()


def test_the_scheduled_run_is_keyed_by_its_tick(market: Market) -> None:
    market.store_with("100.00")
    market.release()
    tick = int(timezone.now().timestamp()) // 604800 * 604800

    with market.capture(execute=True):
        run_scheduled_payouts.enqueue(scheduled_tick=tick)
        run_scheduled_payouts.enqueue(scheduled_tick=tick)  # a redelivered tick

    run = PayoutRun.objects.get()
    assert run.period_key == f"scheduled:{datetime.fromtimestamp(tick, UTC).date()}"
    assert (run.status, run.payouts_created) == ("done", 1)
    assert Payout.objects.count() == 1


def test_held_unverified_and_small_balances_are_skipped(market: Market, settings: Any) -> None:
    held = market.store_with("900.00")
    small = market.store_with("4999.99")
    ready = market.store_with("5000.00")
    unverified = market.store_with("700.00", provider="")
    PayoutDestination.objects.create(
        store=unverified, provider="paystack", account_code="RCP_unknown123"
    )
    market.release()
    payouts_hold(store_id=held.pk, reason="Chargeback under review", actor=None)
    settings.PAYOUT_MINIMUMS = {"NGN": D("5000.00"), "*": D("20.00")}

    run = market.run()

    assert list(Payout.objects.values_list("store_id", flat=True)) == [ready.pk]
    assert run.stores_skipped == {
        f"{held.pk}:NGN": "on_hold",
        f"{small.pk}:NGN": "below_minimum",
        f"{unverified.pk}:NGN": "no_verified_destination",
    }
    assert balance_of(held.pk)["available"] == D("900.00")


def test_a_refused_transfer_puts_the_money_back_and_a_retry_pays_it(market: Market) -> None:
    shop = market.store_with("650.00")
    market.release()
    market.sandbox.set_behaviour("*", "transfer_failed", times=1)
    mail.outbox.clear()

    market.run()

    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.FAILED
    assert "balance is not enough" in payout.failure_reason
    assert balance_of(shop.pk)["available"] == D("650.00")
    assert balance_of(shop.pk)["paid_out"] == 0
    assert [m.subject for m in mail.outbox] == [f"Payout of NGN 650.00 failed for {shop.name}"]
    assert market.transfers() == []

    with market.capture(execute=True):
        retried = payout_retry(payout_id=payout.pk, reason="Balance topped up", actor=None)
    retried.refresh_from_db()
    assert (retried.retry_of_id, retried.status, retried.amount) == (
        payout.pk,
        PayoutStatus.IN_TRANSIT,
        D("650.00"),
    )
    assert StaffAction.objects.get().kind == "retry"
    with pytest.raises(PayoutNotRetryable):
        payout_retry(payout_id=payout.pk, reason="again", actor=None)
    with pytest.raises(PayoutNotRetryable):
        payout_retry(payout_id=retried.pk, reason="not failed", actor=None)
    assert_ledger_consistent()


def test_a_transfer_that_fails_later_is_settled_by_its_webhook(market: Market) -> None:
    shop = market.store_with("300.00")
    market.release()
    market.sandbox.set_behaviour("*", "transfer_fails_later", times=1)

    market.run()
    [webhook] = market.webhooks("transfer.failed")
    market.deliver(webhook)

    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.FAILED
    assert balance_of(shop.pk)["available"] == D("300.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYOUT_REVERSAL).count() == 1
    assert_ledger_consistent()


def test_a_reversed_stripe_transfer_gives_the_money_back_once(market: Market) -> None:
    shop = market.store_with("420.00", provider="stripe")
    market.release()
    market.run()
    payout = Payout.objects.get()
    mail.outbox.clear()

    market.sandbox.settle_transfer("stripe", payout.provider_transfer_id, "reversed")
    [webhook] = market.webhooks("transfer.reversed")
    market.deliver(webhook)
    market.deliver(webhook)

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.REVERSED
    assert balance_of(shop.pk)["available"] == D("420.00")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYOUT_REVERSAL).count() == 1
    assert [m.subject for m in mail.outbox] == [f"Payout of NGN 420.00 reversed for {shop.name}"]


@pytest.mark.parametrize("provider", ["paystack", "stripe"])
def test_a_lost_answer_is_looked_up_and_never_sent_twice(market: Market, provider: str) -> None:
    # Given the provider makes the transfer but its answer comes after the client gave up
    shop = market.store_with("250.00", provider=provider)
    market.release()
    market.sandbox.set_behaviour("*", "timeout", times=1, delay=1.5)

    market.run()
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PENDING and payout.attempts == 1

    # When the reconciler runs before the wait is over, and after it
    market.reconcile()
    assert Payout.objects.get().attempts == 1
    market.clock.shift(RETRY_WAIT + timedelta(seconds=1))
    market.reconcile()

    # Then the transfer the provider made is adopted: one transfer, one payout
    payout.refresh_from_db()
    assert payout.attempts == 2
    assert payout.status in (PayoutStatus.IN_TRANSIT, PayoutStatus.PAID)
    assert len(market.transfers()) == 1
    assert balance_of(shop.pk)["paid_out"] == D("250.00")


def test_a_provider_outage_leaves_the_payout_pending_until_it_answers(market: Market) -> None:
    market.store_with("250.00")
    market.release()
    market.sandbox.set_behaviour("*", "error_5xx", times=2)

    market.run()
    assert Payout.objects.get().status == PayoutStatus.PENDING
    market.clock.shift(RETRY_WAIT + timedelta(seconds=1))
    market.reconcile()  # the look-up meets the second 5xx
    assert Payout.objects.get().status == PayoutStatus.PENDING
    market.clock.shift(RETRY_WAIT + timedelta(seconds=1))
    market.reconcile()

    assert Payout.objects.get().status == PayoutStatus.IN_TRANSIT
    assert len(market.transfers()) == 1


def test_a_lost_webhook_is_made_up_for_by_the_reconciler(market: Market) -> None:
    market.store_with("250.00")
    market.release()
    market.sandbox.set_behaviour("*", "transfer_held", times=1)
    market.run()
    payout = Payout.objects.get()
    market.sandbox.settle_transfer("paystack", payout.reference, "success")  # webhook lost

    market.reconcile()
    assert Payout.objects.get().status == PayoutStatus.IN_TRANSIT  # not overdue yet
    market.clock.shift(IN_TRANSIT_CHECK_AFTER + timedelta(seconds=1))
    market.reconcile()

    assert Payout.objects.get().status == PayoutStatus.PAID


def test_a_webhook_about_a_transfer_that_is_not_ours_changes_nothing(market: Market) -> None:
    market.store_with("250.00")
    market.release()
    market.sandbox.set_behaviour("*", "transfer_held", times=1)
    market.run()
    payout = Payout.objects.get()
    market.sandbox.settle_transfer("paystack", payout.reference, "success")
    [webhook] = market.webhooks("transfer.success")
    forged_body = webhook["body"].replace(payout.reference.encode(), b"po-" + b"0" * 32)
    headers = market.sandbox.sandbox.apis["paystack"].sign(forged_body)

    response = market.deliver({**webhook, "body": forged_body, "headers": headers})

    assert response.status_code == 200
    assert Payout.objects.get().status == PayoutStatus.IN_TRANSIT


def test_send_is_a_no_op_for_a_settled_payout(market: Market) -> None:
    market.store_with("250.00", provider="stripe")
    market.release()
    market.run()
    payout = Payout.objects.get()

    assert payout_send(payout_id=payout.pk) == "not due"
    assert len(market.transfers()) == 1


# --- destinations ---------------------------------------------------------------------------


def test_a_destination_is_verified_with_the_provider_and_replaces_the_last(
    market: Market,
) -> None:
    shop = f.store()
    first = f.destination(market.sandbox, shop, "paystack")
    second = f.destination(market.sandbox, shop, "stripe")

    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)
    assert (second.status, second.account_name) == (DestinationStatus.VERIFIED, "Bella Shoes")
    assert (first.currency, first.account_name) == ("NGN", "Adire House")


@pytest.mark.parametrize(
    ("provider", "code", "field"),
    [
        ("square", "sq0idp-anything", "provider"),
        ("paystack", "acct_1234567890", "account_code"),
        ("stripe", "RCP_abcdefgh", "account_code"),
        ("paystack", "RCP_doesnotexist", "account_code"),
        ("stripe", "acct_DoesNotExist", "account_code"),
    ],
)
def test_a_destination_the_provider_cannot_pay_is_refused(
    market: Market, provider: str, code: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        payout_destination_register(
            store=f.store(), provider=provider, account_code=code, actor=None
        )

    assert [error.field for error in raised.value.field_errors] == [field]
    assert not PayoutDestination.objects.exists()


def test_a_stripe_account_without_transfers_is_refused(market: Market) -> None:
    account = f.connected_account(market.sandbox, transfers=False)

    with pytest.raises(ValidationFailed, match="transfers capability is inactive"):
        payout_destination_register(
            store=f.store(), provider="stripe", account_code=account, actor=None
        )


def test_a_destination_the_provider_could_not_check_is_verified_later(market: Market) -> None:
    shop = f.store()
    code = f.recipient(market.sandbox)
    market.sandbox.set_behaviour(code, "error_5xx", times=1)

    destination = payout_destination_register(
        store=shop, provider="paystack", account_code=code, actor=None
    )
    assert destination.status == DestinationStatus.UNVERIFIED
    market.reconcile()

    destination.refresh_from_db()
    assert destination.status == DestinationStatus.VERIFIED


def test_a_debit_cannot_take_a_payout_in_transit(market: Market) -> None:
    shop = market.store_with("100.00")
    market.release()
    market.run()

    with pytest.raises(Exception, match="more than is available"):
        ledger_adjust(
            store_id=shop.pk,
            currency="NGN",
            amount=D("1.00"),
            direction="debit",
            reason="x",
            actor=None,
        )
