"""Sending and settling payouts, pinned exactly against a recording provider: what the
provider is asked (reference, amount in minor units, currency, account, reason, whether
to look the reference up first), how long a call keeps others off the payout, what an
unanswered, refused, queued, paid, failed or reversed transfer writes (statuses, times,
errors, the reversal entry, the events), and which answers change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from django.db import transaction

from apps.common.errors import NotFound
from apps.common.models import OutboxMessage
from apps.payments.providers.base import (
    PermanentProviderError,
    TransferResult,
    TransientProviderError,
)
from apps.payouts.models import (
    DestinationStatus,
    EntryKind,
    LedgerEntry,
    Payout,
    PayoutDestination,
)
from apps.payouts.services import ledger_adjust, payout_create, transfers
from apps.payouts.services.ledger import balance_locked, entry_post
from apps.payouts.services.transfers import (
    RETRY_WAIT,
    payout_apply,
    payout_send,
    payout_settle,
    payout_settle_reported,
)
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent, balance_of

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
JsonLogs = Callable[[], list[dict[str, Any]]]


@dataclass
class FakeProvider:
    """A transfer provider that records what it is asked and answers as told."""

    transfer_answer: TransferResult | Exception = field(
        default_factory=lambda: TransferResult(state="pending", transfer_id="TRF_1")
    )
    status_answer: TransferResult | Exception | None = None
    names: list[str | None] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    seen_rows: list[dict[str, Any]] = field(default_factory=list)

    def get(self, name: str | None) -> FakeProvider:
        self.names.append(name)
        return self

    def transfer(self, **kwargs: Any) -> TransferResult:
        self.calls.append(("transfer", kwargs))
        row = Payout.objects.values("attempts", "next_attempt_at", "status").get(
            reference=kwargs["reference"]
        )
        self.seen_rows.append(dict(row))
        if isinstance(self.transfer_answer, Exception):
            raise self.transfer_answer
        return self.transfer_answer

    def transfer_status(self, **kwargs: Any) -> TransferResult | None:
        self.calls.append(("transfer_status", kwargs))
        if isinstance(self.status_answer, Exception):
            raise self.status_answer
        return self.status_answer


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, settings: Any) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(transfers, "get_transfer_provider", fake.get)
    settings.PAYMENT_HTTP_TIMEOUT = 1.0
    return fake


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _payout(
    amount: str = "70.25",
    *,
    currency: str = "NGN",
    provider: str = "paystack",
    code: str = "RCP_abcdef123",
) -> Payout:
    shop = f.store()
    PayoutDestination.objects.create(
        store=shop,
        provider=provider,
        account_code=code,
        status=DestinationStatus.VERIFIED,
        currency=currency,
    )
    ledger_adjust(
        store_id=shop.pk,
        currency=currency,
        amount=D(amount),
        direction="credit",
        reason="x",
        actor=None,
    )
    made = payout_create(store_id=shop.pk, currency=currency)
    assert isinstance(made, Payout)
    return made


def _row(payout: Payout) -> Payout:
    return Payout.objects.get(pk=payout.pk)


def _apply(payout: Payout, state: str, transfer_id: str = "", reason: str = "") -> str:
    result = TransferResult(cast(Any, state), transfer_id, reason)
    return payout_apply(payout_id=payout.pk, result=result)


def _events(name: str) -> list[dict[str, Any]]:
    return [
        m.payload
        for m in OutboxMessage.objects.order_by("id")
        if m.path == f"apps.payouts.events.{name}"
    ]


def _changes(json_logs: JsonLogs) -> list[tuple[str, Any, Any, Any]]:
    return [
        (line["level"], line["payout_id"], line["status"], line["before"])
        for line in json_logs()
        if line.get("message") == "payout.status_changed"
    ]


def _reversals(payout: Payout) -> list[tuple[Any, ...]]:
    return list(
        LedgerEntry.objects.filter(kind=EntryKind.PAYOUT_REVERSAL).values_list(
            "key", "amount", "pending", "available", "debt", "paid_out", "payout_id", "store_id"
        )
    )


# --- payout_send ------------------------------------------------------------------------------


def test_send_asks_the_provider_with_the_payouts_reference_amount_and_account(
    provider: FakeProvider, clock: Any
) -> None:
    payout = _payout("70.25")

    assert payout_send(payout_id=payout.pk) == "in_transit"

    assert provider.names == ["paystack"]
    assert provider.calls == [
        (
            "transfer",
            {
                "reference": payout.reference,
                "amount_minor": 7025,
                "currency": "NGN",
                "account_code": "RCP_abcdef123",
                "reason": f"FASHIONISTAR payout {payout.reference}",
                "look_up_first": False,
            },
        )
    ]
    # during the call: one attempt taken, others kept off for the lease (60 s minimum)
    assert provider.seen_rows == [
        {"attempts": 1, "next_attempt_at": NOW + timedelta(seconds=60), "status": "pending"}
    ]
    row = _row(payout)
    assert (row.status, row.attempts, row.provider_transfer_id) == ("in_transit", 1, "TRF_1")
    assert (row.sent_at, row.paid_at, row.next_attempt_at, row.last_error) == (
        NOW,
        None,
        None,
        "",
    )


def test_a_stripe_payout_in_dollars_is_sent_in_cents_to_the_connected_account(
    provider: FakeProvider, clock: Any
) -> None:
    payout = _payout("19.99", currency="USD", provider="stripe", code="acct_AbCdEf123")
    provider.transfer_answer = TransferResult(state="succeeded", transfer_id="tr_9")

    assert payout_send(payout_id=payout.pk) == "paid"

    assert provider.names == ["stripe"]
    [(_, asked)] = provider.calls
    assert (asked["amount_minor"], asked["currency"], asked["account_code"]) == (
        1999,
        "USD",
        "acct_AbCdEf123",
    )
    row = _row(payout)
    assert (row.status, row.provider_transfer_id, row.sent_at, row.paid_at) == (
        "paid",
        "tr_9",
        NOW,
        NOW,
    )


def test_the_lease_is_six_http_timeouts_when_that_is_longer_than_the_retry_wait(
    provider: FakeProvider, clock: Any, settings: Any
) -> None:
    settings.PAYMENT_HTTP_TIMEOUT = 12.5
    payout = _payout()

    payout_send(payout_id=payout.pk)

    assert provider.seen_rows[0]["next_attempt_at"] == NOW + timedelta(seconds=75)


def test_without_a_configured_timeout_the_lease_is_six_times_ten_seconds(
    provider: FakeProvider, clock: Any, settings: Any
) -> None:
    del settings.PAYMENT_HTTP_TIMEOUT
    payout = _payout()

    payout_send(payout_id=payout.pk)

    assert provider.seen_rows[0]["next_attempt_at"] == NOW + timedelta(seconds=60)


def test_an_unanswered_send_waits_then_looks_the_reference_up_first(
    provider: FakeProvider, clock: Any, settings: Any
) -> None:
    settings.PAYMENT_HTTP_TIMEOUT = 12.5  # a 75 s lease: the wait after it is RETRY_WAIT
    payout = _payout()
    bystander = _payout("5.00")
    provider.transfer_answer = TransientProviderError("e" * 300)

    assert payout_send(payout_id=payout.pk) == "pending"

    row = _row(payout)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        "pending",
        1,
        NOW + timedelta(seconds=60),
        "e" * 255,
    )
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYOUT_REVERSAL).exists()
    other = _row(bystander)
    assert (other.attempts, other.next_attempt_at, other.last_error) == (0, None, "")

    # not due again before the wait is over
    assert payout_send(payout_id=payout.pk) == "not due"
    clock.shift(RETRY_WAIT - timedelta(seconds=1))
    assert payout_send(payout_id=payout.pk) == "not due"
    assert len(provider.calls) == 1

    # due exactly when the wait ends: asked again, looking the reference up first
    clock.shift(timedelta(seconds=1))
    provider.transfer_answer = TransferResult(state="pending", transfer_id="TRF_2")
    assert payout_send(payout_id=payout.pk) == "in_transit"

    assert [call[1]["look_up_first"] for call in provider.calls] == [False, True]
    assert [call[1]["reference"] for call in provider.calls] == [payout.reference] * 2
    row = _row(payout)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (
        "in_transit",
        2,
        "",
        None,
    )


def test_a_send_takes_only_its_own_payout(provider: FakeProvider, clock: Any) -> None:
    first = _payout("10.00")
    second = _payout("20.00")

    payout_send(payout_id=second.pk)

    untouched = _row(first)
    assert (untouched.status, untouched.attempts, untouched.next_attempt_at) == (
        "pending",
        0,
        None,
    )
    assert [c[1]["reference"] for c in provider.calls] == [second.reference]


def test_send_is_not_due_for_a_payout_already_on_its_way(
    provider: FakeProvider, clock: Any
) -> None:
    payout = _payout()
    _apply(payout, "pending", "TRF_1")

    assert payout_send(payout_id=payout.pk) == "not due"

    assert provider.calls == []
    assert _row(payout).attempts == 0


def test_send_of_an_unknown_payout_is_not_found(provider: FakeProvider) -> None:
    with pytest.raises(NotFound) as raised:
        payout_send(payout_id=987654)

    assert raised.value.code == "payout_not_found"
    assert provider.calls == []


def test_a_refused_transfer_fails_the_payout_and_gives_the_money_back(
    provider: FakeProvider, clock: Any
) -> None:
    payout = _payout("70.25")
    provider.transfer_answer = PermanentProviderError("balance too low")

    assert payout_send(payout_id=payout.pk) == "failed"

    row = _row(payout)
    assert (row.status, row.failure_reason, row.failed_at, row.provider_transfer_id) == (
        "failed",
        "balance too low",
        NOW,
        "",
    )
    assert (row.next_attempt_at, row.attempts, row.sent_at) == (None, 1, None)
    assert _reversals(payout) == [
        (
            f"payout_reversal:{payout.pk}",
            D("70.25"),
            D("0.00"),
            D("70.25"),
            D("0.00"),
            D("-70.25"),
            payout.pk,
            payout.store_id,
        )
    ]
    assert balance_of(payout.store_id) == {
        "pending": D("0.00"),
        "available": D("70.25"),
        "debt": D("0.00"),
        "paid_out": D("0.00"),
    }
    assert _events("PayoutFailed") == [{"payout_id": payout.pk, "reversed": False}]
    assert _events("PayoutPaid") == []
    assert_ledger_consistent()


# --- payout_apply ------------------------------------------------------------------------------


def test_a_queued_transfer_is_in_transit_and_clears_the_wait_and_the_error(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout()
    Payout.objects.filter(pk=payout.pk).update(
        next_attempt_at=NOW + timedelta(seconds=30), last_error="timed out"
    )

    assert _apply(payout, "pending", "T" * 130) == "in_transit"

    row = _row(payout)
    assert (row.status, row.sent_at, row.paid_at, row.failed_at) == ("in_transit", NOW, None, None)
    assert (row.next_attempt_at, row.last_error) == (None, "")
    assert row.provider_transfer_id == "T" * 128
    assert _changes(json_logs) == [("info", payout.pk, "in_transit", "pending")]
    assert _events("PayoutPaid") == [] and _events("PayoutFailed") == []


def test_a_queued_answer_for_a_payout_in_transit_changes_nothing(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout()
    _apply(payout, "pending", "TRF_1")
    later = NOW + timedelta(minutes=5)
    Payout.objects.filter(pk=payout.pk).update(next_attempt_at=later)
    clock.shift(timedelta(minutes=1))

    assert _apply(payout, "pending", "TRF_other") == "in_transit"

    row = _row(payout)
    assert (row.status, row.sent_at, row.provider_transfer_id, row.next_attempt_at) == (
        "in_transit",
        NOW,
        "TRF_1",
        later,
    )
    assert _changes(json_logs) == [("info", payout.pk, "in_transit", "pending")]


def test_an_answer_of_no_known_state_leaves_a_pending_payout_as_it_is(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout()
    wait = NOW + timedelta(seconds=45)
    Payout.objects.filter(pk=payout.pk).update(next_attempt_at=wait, last_error="timed out")

    assert _apply(payout, "processing") == "pending"

    row = _row(payout)
    assert (row.status, row.next_attempt_at, row.last_error, row.sent_at) == (
        "pending",
        wait,
        "timed out",
        None,
    )
    assert _changes(json_logs) == []
    assert _reversals(payout) == []


def test_paid_straight_away_is_sent_and_paid_now_and_announced(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout()

    assert _apply(payout, "succeeded", "TRF_5") == "paid"

    row = _row(payout)
    assert (row.status, row.sent_at, row.paid_at, row.provider_transfer_id) == (
        "paid",
        NOW,
        NOW,
        "TRF_5",
    )
    assert row.next_attempt_at is None
    assert _events("PayoutPaid") == [{"payout_id": payout.pk}]
    assert _changes(json_logs) == [("info", payout.pk, "paid", "pending")]
    assert balance_of(payout.store_id)["paid_out"] == D("70.25")


def test_paid_after_transit_keeps_when_it_was_sent(provider: FakeProvider, clock: Any) -> None:
    payout = _payout()
    _apply(payout, "pending", "TRF_1")
    clock.shift(timedelta(hours=2))

    assert _apply(payout, "succeeded", "TRF_1") == "paid"

    row = _row(payout)
    assert (row.sent_at, row.paid_at) == (NOW, NOW + timedelta(hours=2))


def test_late_answers_for_a_paid_payout_change_nothing(provider: FakeProvider, clock: Any) -> None:
    payout = _payout()
    _apply(payout, "succeeded", "TRF_1")
    clock.shift(timedelta(hours=1))

    assert _apply(payout, "succeeded", "TRF_1") == "paid"
    assert _apply(payout, "failed", "", "too late") == "paid"
    assert _apply(payout, "pending", "") == "paid"

    row = _row(payout)
    assert (row.paid_at, row.failed_at, row.failure_reason) == (NOW, None, "")
    assert _events("PayoutPaid") == [{"payout_id": payout.pk}]
    assert _reversals(payout) == []


def test_a_transfer_failing_in_transit_fails_with_its_state_as_reason(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout("40.00")
    _apply(payout, "pending", "TRF_1")
    clock.shift(timedelta(minutes=3))

    assert _apply(payout, "failed") == "failed"

    row = _row(payout)
    assert (row.status, row.failure_reason, row.failed_at, row.sent_at) == (
        "failed",
        "failed",
        NOW + timedelta(minutes=3),
        NOW,
    )
    assert balance_of(payout.store_id)["available"] == D("40.00")
    assert _events("PayoutFailed") == [{"payout_id": payout.pk, "reversed": False}]
    assert _changes(json_logs) == [
        ("info", payout.pk, "in_transit", "pending"),
        ("warning", payout.pk, "failed", "in_transit"),
    ]


def test_a_long_failure_reason_is_cut_to_the_column(provider: FakeProvider, clock: Any) -> None:
    payout = _payout()

    _apply(payout, "failed", "", "r" * 300)

    assert _row(payout).failure_reason == "r" * 255


def test_a_paid_transfer_that_comes_back_is_reversed_and_repays_debt_first(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    payout = _payout("70.00")
    _apply(payout, "succeeded", "TRF_1")
    with transaction.atomic():  # a refund after the payout left a debt of 30.00
        balance = balance_locked(payout.store_id, "NGN")
        entry_post(
            balance, kind=EntryKind.REFUND, key="refund:test", amount=D("-30.00"), debt=D("30.00")
        )
    clock.shift(timedelta(days=1))

    assert _apply(payout, "reversed") == "reversed"

    row = _row(payout)
    assert (row.status, row.failure_reason, row.failed_at, row.paid_at) == (
        "reversed",
        "reversed",
        NOW + timedelta(days=1),
        NOW,
    )
    assert _reversals(payout) == [
        (
            f"payout_reversal:{payout.pk}",
            D("70.00"),
            D("0.00"),
            D("40.00"),
            D("-30.00"),
            D("-70.00"),
            payout.pk,
            payout.store_id,
        )
    ]
    assert balance_of(payout.store_id) == {
        "pending": D("0.00"),
        "available": D("40.00"),
        "debt": D("0.00"),
        "paid_out": D("0.00"),
    }
    assert _events("PayoutFailed") == [{"payout_id": payout.pk, "reversed": True}]
    assert _changes(json_logs)[-1] == ("warning", payout.pk, "reversed", "paid")
    assert_ledger_consistent()


def test_a_pending_payout_reported_reversed_is_reversed(provider: FakeProvider, clock: Any) -> None:
    payout = _payout()

    assert _apply(payout, "reversed", "", "came back") == "reversed"

    assert (_row(payout).status, _row(payout).failure_reason) == ("reversed", "came back")
    assert _events("PayoutFailed") == [{"payout_id": payout.pk, "reversed": True}]


def test_answers_for_a_failed_payout_change_nothing(provider: FakeProvider, clock: Any) -> None:
    payout = _payout("25.00")
    _apply(payout, "failed", "", "no funds")
    clock.shift(timedelta(hours=1))

    for state in ("reversed", "failed", "pending", "succeeded"):
        assert _apply(payout, state, "TRF_late") == "failed"

    row = _row(payout)
    assert (row.failed_at, row.failure_reason, row.paid_at, row.sent_at) == (
        NOW,
        "no funds",
        None,
        None,
    )
    assert len(_reversals(payout)) == 1
    assert balance_of(payout.store_id)["available"] == D("25.00")
    assert _events("PayoutFailed") == [{"payout_id": payout.pk, "reversed": False}]


# --- payout_settle / payout_settle_reported ------------------------------------------------


def test_settle_asks_about_the_reference_and_transfer_and_applies_the_answer(
    provider: FakeProvider, clock: Any
) -> None:
    payout = _payout(provider="stripe", code="acct_AbCdEf123")
    _apply(payout, "pending", "tr_1")
    provider.status_answer = TransferResult(state="succeeded", transfer_id="tr_1")

    assert payout_settle(payout_id=payout.pk) == "paid"

    assert provider.names == ["stripe"]
    assert provider.calls == [
        ("transfer_status", {"reference": payout.reference, "transfer_id": "tr_1"})
    ]
    assert _row(payout).status == "paid"


def test_settle_of_a_failed_or_reversed_payout_asks_nothing(
    provider: FakeProvider, clock: Any
) -> None:
    failed = _payout("10.00")
    _apply(failed, "failed")
    reversed_ = _payout("11.00")
    _apply(reversed_, "reversed")

    assert payout_settle(payout_id=failed.pk) == "failed"
    assert payout_settle(payout_id=reversed_.pk) == "reversed"
    assert provider.calls == []


def test_settle_of_an_unknown_payout_is_not_found(provider: FakeProvider) -> None:
    with pytest.raises(NotFound) as raised:
        payout_settle(payout_id=987654)

    assert raised.value.code == "payout_not_found"


def test_settle_without_an_answer_changes_nothing(provider: FakeProvider, clock: Any) -> None:
    payout = _payout()
    _apply(payout, "pending", "TRF_1")
    provider.status_answer = TransientProviderError("timeout")

    assert payout_settle(payout_id=payout.pk) == "unknown"

    assert _row(payout).status == "in_transit"
    assert len(provider.calls) == 1


def test_a_missing_transfer_alerts_only_once_the_payout_was_sent(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    pending = _payout()
    provider.status_answer = None

    assert payout_settle(payout_id=pending.pk) == "unknown"
    assert not [line for line in json_logs() if line.get("message") == "payout.transfer_missing"]
    assert _row(pending).status == "pending"

    _apply(pending, "pending", "TRF_1")
    assert payout_settle(payout_id=pending.pk) == "unknown"

    alerts = [line for line in json_logs() if line.get("message") == "payout.transfer_missing"]
    assert [(a["level"], a["alert"], a["payout_id"]) for a in alerts] == [
        ("error", True, pending.pk)
    ]
    assert _row(pending).status == "in_transit"


def test_a_reported_reference_settles_that_payout_at_that_provider(
    provider: FakeProvider, clock: Any, json_logs: JsonLogs
) -> None:
    older = _payout("10.00")
    newer = _payout("20.00")
    provider.status_answer = TransferResult(state="pending", transfer_id="TRF_7")

    assert payout_settle_reported(provider="stripe", reference=older.reference) == (
        "unknown payout"
    )
    assert payout_settle_reported(provider="paystack", reference="po-" + "0" * 32) == (
        "unknown payout"
    )
    assert provider.calls == []
    unknown = [line for line in json_logs() if line.get("message") == "payout.unknown_reference"]
    assert [(u["provider"], u["reference"]) for u in unknown] == [
        ("stripe", older.reference),
        ("paystack", "po-" + "0" * 32),
    ]

    assert payout_settle_reported(provider="paystack", reference=older.reference) == ("in_transit")

    assert [c[1]["reference"] for c in provider.calls] == [older.reference]
    assert (_row(older).status, _row(newer).status) == ("in_transit", "pending")
