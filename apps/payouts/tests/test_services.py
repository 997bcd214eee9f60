"""The services' edges: unknown ids, bad keys and reasons, stores that cannot be paid,
providers that cannot say, payouts settled twice, a statement line of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.orders.tests.factories import place_order
from apps.payments.models import RefundStatus
from apps.payments.providers.base import TransferResult
from apps.payouts.exceptions import PayoutNotRetryable
from apps.payouts.models import (
    DestinationStatus,
    EntryKind,
    Payout,
    PayoutDestination,
    PayoutRun,
    PayoutStatus,
    StoreBalance,
)
from apps.payouts.rounding import apportion
from apps.payouts.selectors import statement_rows
from apps.payouts.services import (
    earnings_record,
    earnings_release_due,
    ledger_adjust,
    payout_apply,
    payout_create,
    payout_destination_verify,
    payout_minimum,
    payout_retry,
    payout_run_execute,
    payout_run_start,
    payout_send,
    payout_settle,
    payout_settle_reported,
    refund_record,
)
from apps.payouts.services.ledger import balance_locked, entry_post
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

D = Decimal


def _available(amount: str, sandbox: SandboxServer | None = None) -> Any:
    shop = f.store()
    if sandbox is not None:
        f.destination(sandbox, shop)
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D(amount),
        direction="credit",
        reason="opening",
        actor=None,
    )
    return shop


def test_unknown_ids_are_not_found() -> None:
    for call in (
        lambda: earnings_record(order_id=987654),
        lambda: refund_record(refund_id=987654),
        lambda: payout_run_execute(run_id=987654),
        lambda: payout_send(payout_id=987654),
        lambda: payout_settle(payout_id=987654),
        lambda: payout_retry(payout_id=987654, reason="x", actor=None),
        lambda: payout_destination_verify(destination_id=987654),
        lambda: ledger_adjust(
            store_id=987654, currency="NGN", amount=D(1), direction="credit", reason="x", actor=None
        ),
    ):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize("key", ["", "k" * 65, "tab\there"])
def test_a_run_needs_a_printable_key(key: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        payout_run_start(period_key=key)
    assert raised.value.field_errors[0].field == "period_key"


def test_a_reason_is_one_line_of_at_most_255_characters() -> None:
    shop = f.store()
    with pytest.raises(ValidationFailed, match="255"):
        ledger_adjust(
            store_id=shop.pk,
            currency="NGN",
            amount=D(1),
            direction="credit",
            reason="x" * 256,
            actor=None,
        )


def test_minimums_fall_back_to_any_currency(settings: Any) -> None:
    settings.PAYOUT_MINIMUMS = {"NGN": D("5000.00"), "*": D("20.00")}
    assert (payout_minimum("ngn"), payout_minimum("USD")) == (D("5000.00"), D("20.00"))
    settings.PAYOUT_MINIMUMS = {}
    assert payout_minimum("USD") == D("0.01")


def test_a_finished_run_does_nothing_more(payment_sandbox: SandboxServer) -> None:
    run = PayoutRun.objects.create(period_key="done", status="done")
    _available("100.00", payment_sandbox)

    assert payout_run_execute(run_id=run.pk).payouts_created == 0
    assert not Payout.objects.exists()


def test_a_store_is_paid_once_per_run_and_only_in_its_destinations_currency(
    payment_sandbox: SandboxServer,
) -> None:
    shop = _available("100.00", payment_sandbox)
    run = PayoutRun.objects.create(period_key="r")
    assert isinstance(payout_create(store_id=shop.pk, currency="NGN", run_id=run.pk), Payout)
    ledger_adjust(
        store_id=shop.pk, currency="NGN", amount=D(5), direction="credit", reason="x", actor=None
    )
    assert payout_create(store_id=shop.pk, currency="NGN", run_id=run.pk) == "already_in_run"
    assert payout_create(store_id=shop.pk, currency="NGN") == "payout_open"
    ledger_adjust(
        store_id=shop.pk, currency="GHS", amount=D(5), direction="credit", reason="x", actor=None
    )
    assert payout_create(store_id=shop.pk, currency="GHS") == "destination_currency_differs"


def test_a_retry_needs_a_store_that_can_be_paid(payment_sandbox: SandboxServer) -> None:
    shop = _available("100.00", payment_sandbox)
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(payout, Payout)
    payout_apply(payout_id=payout.pk, result=TransferResult(state="failed", transfer_id=""))
    PayoutDestination.objects.update(status=DestinationStatus.UNVERIFIED)

    with pytest.raises(PayoutNotRetryable, match="no_verified_destination"):
        payout_retry(payout_id=payout.pk, reason="try", actor=None)


def test_a_payout_is_settled_once_whatever_the_provider_repeats(
    payment_sandbox: SandboxServer,
) -> None:
    shop = _available("100.00", payment_sandbox)
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(payout, Payout)

    paid = TransferResult(state="succeeded", transfer_id="TRF_1")
    assert payout_apply(payout_id=payout.pk, result=paid) == "paid"
    assert payout_apply(payout_id=payout.pk, result=paid) == "paid"
    assert payout_apply(payout_id=payout.pk, result=TransferResult("failed", "")) == "paid"
    reversed_ = TransferResult(state="reversed", transfer_id="TRF_1", failure_reason="")
    assert payout_apply(payout_id=payout.pk, result=reversed_) == "reversed"
    assert payout_apply(payout_id=payout.pk, result=reversed_) == "reversed"
    assert payout_settle(payout_id=payout.pk) == "reversed"  # final: nothing asked

    payout.refresh_from_db()
    assert (payout.provider_transfer_id, payout.failure_reason) == ("TRF_1", "reversed")
    assert StoreBalance.objects.get(store=shop).available == D("100.00")
    assert_ledger_consistent()


def test_settling_when_the_provider_cannot_say(
    payment_sandbox: SandboxServer, json_logs: Any
) -> None:
    shop = _available("100.00", payment_sandbox)
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(payout, Payout)

    assert payout_settle(payout_id=payout.pk) == "unknown"  # never sent: no transfer yet
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.IN_TRANSIT)
    assert payout_settle(payout_id=payout.pk) == "unknown"  # the provider lost it
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    assert payout_settle(payout_id=payout.pk) == "unknown"
    assert payout_settle_reported(provider="paystack", reference="po-not-ours") == "unknown payout"

    events = [line["message"] for line in json_logs()]
    assert "payout.transfer_missing" in events and "payout.unknown_reference" in events


def test_verifying_a_destination_again(payment_sandbox: SandboxServer) -> None:
    shop = f.store()
    verified = f.destination(payment_sandbox, shop)
    unknown = PayoutDestination.objects.create(
        store=f.store(), provider="paystack", account_code="RCP_missing01"
    )
    retired = PayoutDestination.objects.create(
        store=f.store(), provider="paystack", account_code="RCP_missing02", is_active=False
    )

    assert payout_destination_verify(destination_id=verified.pk) == "verified"
    assert payout_destination_verify(destination_id=retired.pk) == "unverified"
    assert payout_destination_verify(destination_id=unknown.pk) == "rejected"
    payment_sandbox.set_behaviour("*", "error_5xx", times=1)
    assert payout_destination_verify(destination_id=unknown.pk) == "unverified"
    unknown.refresh_from_db()
    assert unknown.last_error == "Paystack has no such recipient"


def test_refunds_that_are_not_succeeded_or_have_no_sale_record_nothing() -> None:
    order = f.paid([(f.variant(f.store()), 1)])
    pending = f.refunded(order, "10.00")
    pending.status = RefundStatus.PENDING
    pending.save()
    assert refund_record(refund_id=pending.pk) == "not succeeded"
    unpaid = place_order(items=[(f.variant(f.store()), 1)])
    assert refund_record(refund_id=f.refunded(unpaid, "10.00").pk) == "not revenue"


def test_the_ledger_refuses_a_negative_bucket_and_a_repeated_key() -> None:
    shop = f.store()
    balance = balance_locked(shop.pk, "NGN")
    with pytest.raises(Conflict, match="below zero"):
        entry_post(balance, kind=EntryKind.ADJUSTMENT, key="k-1", amount=D(-1), available=D(-1))
    assert entry_post(balance, kind=EntryKind.ADJUSTMENT, key="k-2", amount=D(1), available=D(1))
    again = entry_post(balance, kind=EntryKind.ADJUSTMENT, key="k-2", amount=D(1), available=D(1))
    assert again is None
    assert balance_locked(shop.pk, "NGN").available == D(1)


def test_nothing_apportioned_over_nothing() -> None:
    assert apportion(D("1.00"), [D(0), D(0)], D("0.01")) == [D(0), D(0)]


def test_a_statement_describes_each_kind_of_line(
    payment_sandbox: SandboxServer, time_machine: Any
) -> None:
    time_machine.move_to(datetime(2026, 6, 3, 12, tzinfo=UTC), tick=False)
    shop = f.store("10.00")
    f.destination(payment_sandbox, shop)
    f.delivered(f.paid([(f.variant(shop, "100.00"), 1)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(payout, Payout)
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D(3),
        direction="credit",
        reason="Bonus",
        actor=None,
    )

    rows = statement_rows(store_id=shop.pk, month=timezone.localdate())

    descriptions = [row[3] for row in rows[2:-1]]
    assert descriptions[0].startswith("Sale, order FS-")
    assert descriptions[3] == f"Payout {payout.reference}"
    assert descriptions[4] == "Bonus"
