"""Payout runs, minimums, staff reasons and retries, pinned exactly: the minimum per
currency, how a reason and a run key are cleaned and bounded, what a run records
(status, finish time, count, the skipped stores and why), which destination is used,
and what a retry writes and refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from apps.common.errors import NotFound, ValidationFailed
from apps.common.models import OutboxMessage
from apps.payments.providers.base import TransferResult
from apps.payouts.exceptions import PayoutNotRetryable
from apps.payouts.models import (
    DestinationStatus,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutRun,
    StaffAction,
)
from apps.payouts.services import ledger_adjust, payout_apply, payout_create
from apps.payouts.services.payouts import (
    PERIOD_KEY_MAX_LENGTH,
    payout_minimum,
    payout_retry,
    payout_run_execute,
    payout_run_start,
    reason_clean,
)
from apps.payouts.tests import factories as f
from apps.vendors.models import Store

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
JsonLogs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _shop(
    *,
    destination: str | None = DestinationStatus.VERIFIED,
    currency: str = "NGN",
    credits: dict[str, str] | None = None,
) -> Store:
    """A store with a destination (``destination`` its status; None: none) taking
    ``currency`` (empty: any), and ``credits`` available per currency."""
    shop = f.store()
    if destination is not None:
        PayoutDestination.objects.create(
            store=shop,
            provider="paystack",
            account_code="RCP_abcdef123",
            status=destination,
            currency=currency,
        )
    for code, amount in (credits or {}).items():
        ledger_adjust(
            store_id=shop.pk,
            currency=code,
            amount=D(amount),
            direction="credit",
            reason="x",
            actor=None,
        )
    return shop


def _events(name: str) -> list[dict[str, Any]]:
    return [
        m.payload
        for m in OutboxMessage.objects.order_by("id")
        if m.path == f"apps.payouts.events.{name}"
    ]


def _failed_payout(shop: Store, currency: str = "NGN") -> Payout:
    made = payout_create(store_id=shop.pk, currency=currency)
    assert isinstance(made, Payout)
    payout_apply(payout_id=made.pk, result=TransferResult(state="failed", transfer_id=""))
    made.refresh_from_db()
    return made


# --- payout_minimum / reason_clean -----------------------------------------------------------


def test_the_minimum_is_the_currencys_or_the_default_for_any_other(settings: Any) -> None:
    settings.PAYOUT_MINIMUMS = {"NGN": D("5000.00"), "*": D("20.00")}

    assert payout_minimum("NGN") == D("5000.00")
    assert payout_minimum("ngn") == D("5000.00")
    assert payout_minimum("USD") == D("20.00")


def test_without_any_minimum_configured_it_is_one_minor_unit(settings: Any) -> None:
    settings.PAYOUT_MINIMUMS = {}

    assert payout_minimum("USD") == D("0.01")


def test_a_reason_is_one_line_with_single_spaces() -> None:
    assert reason_clean("  Balance \n\t topped   up ") == "Balance topped up"


def test_a_missing_reason_is_required_under_the_field_named() -> None:
    for missing in (None, "", " \n "):
        with pytest.raises(ValidationFailed) as raised:
            reason_clean(missing)  # type: ignore[arg-type]
        assert [(e.field, e.code) for e in raised.value.field_errors] == [("reason", "required")]

    with pytest.raises(ValidationFailed) as raised:
        reason_clean("", field="note")
    assert [(e.field, e.code) for e in raised.value.field_errors] == [("note", "required")]
    with pytest.raises(ValidationFailed) as raised:
        reason_clean("x" * 256, field="note")
    assert [(e.field, e.code) for e in raised.value.field_errors] == [("note", "max_length")]
    assert reason_clean("x" * 255) == "x" * 255


# --- payout_run_start ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", None, "x" * 65, "week\x001", "week\n1"])
def test_a_run_key_must_be_1_to_64_printable_characters(key: str | None) -> None:
    with pytest.raises(ValidationFailed) as raised:
        payout_run_start(period_key=key)  # type: ignore[arg-type]

    assert [(e.field, e.code) for e in raised.value.field_errors] == [("period_key", "length")]
    assert not PayoutRun.objects.exists()


def test_run_keys_of_one_and_of_64_characters_are_accepted_stripped() -> None:
    assert PERIOD_KEY_MAX_LENGTH == 64
    short, created = payout_run_start(period_key=" w ")
    longest, _ = payout_run_start(period_key="k" * 64)

    assert (short.period_key, created) == ("w", True)
    assert longest.period_key == "k" * 64


def test_a_run_is_started_once_per_key_and_announced(clock: Any) -> None:
    run, created = payout_run_start(period_key="week-9")
    again, created_again = payout_run_start(period_key=" week-9 ")

    assert (created, created_again, again.pk) == (True, False, run.pk)
    row = PayoutRun.objects.get()
    assert (row.period_key, row.actor_id, row.status) == ("week-9", None, "running")
    assert _events("PayoutRunStarted") == [{"run_id": run.pk}]
    assert not StaffAction.objects.exists()  # not started by staff


def test_a_run_started_by_staff_is_audited(django_user_model: Any) -> None:
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    run, _ = payout_run_start(period_key="manual-1", actor=staff)

    assert PayoutRun.objects.get().actor_id == staff.pk
    action = StaffAction.objects.get()
    assert (action.actor_id, action.kind, action.run_id, action.reason) == (
        staff.pk,
        "run",
        run.pk,
        "payout run manual-1",
    )


# --- payout_run_execute -------------------------------------------------------------------------


def test_a_run_pays_eligible_stores_and_names_the_skipped_ones(
    clock: Any, settings: Any, json_logs: JsonLogs
) -> None:
    settings.PAYOUT_MINIMUMS = {"NGN": D("10.00"), "*": D("0.01")}
    small = _shop(credits={"NGN": "0.50"})  # above nothing, below the NGN minimum
    paid = _shop(currency="", credits={"USD": "0.50", "NGN": "10.00"})
    held = _shop(credits={"NGN": "30.00"})
    PayoutHold.objects.create(store=held, reason="dispute")
    bare = _shop(destination=None, credits={"NGN": "40.00"})
    unverified = _shop(destination=DestinationStatus.UNVERIFIED, credits={"NGN": "50.00"})
    naira_only = _shop(currency="NGN", credits={"NGN": "60.00", "USD": "7.00"})
    other_run, _ = payout_run_start(period_key="other")
    run, _ = payout_run_start(period_key="week-1")

    done = payout_run_execute(run_id=run.pk)

    assert (done.pk, done.status, done.finished_at, done.payouts_created) == (
        run.pk,
        "done",
        NOW,
        3,
    )
    assert done.stores_skipped == {
        f"{small.pk}:NGN": "below_minimum",
        f"{held.pk}:NGN": "on_hold",
        f"{bare.pk}:NGN": "no_verified_destination",
        f"{unverified.pk}:NGN": "no_verified_destination",
        f"{naira_only.pk}:USD": "destination_currency_differs",
    }
    # paid in (store, currency) order: the order balances are locked in
    assert list(
        Payout.objects.filter(run=run).order_by("id").values_list("store_id", "currency", "amount")
    ) == [
        (paid.pk, "NGN", D("10.00")),
        (paid.pk, "USD", D("0.50")),
        (naira_only.pk, "NGN", D("60.00")),
    ]
    other_run.refresh_from_db()
    assert (other_run.status, other_run.finished_at, other_run.payouts_created) == (
        "running",
        None,
        0,
    )
    [log] = [line for line in json_logs() if line.get("message") == "payouts.run_done"]
    assert (log["run_id"], log["created"], log["skipped"]) == (run.pk, 3, 5)


def test_a_run_cut_short_pays_only_the_stores_it_had_not_paid(
    clock: Any, json_logs: JsonLogs
) -> None:
    first = _shop(credits={"NGN": "10.00"})
    second = _shop(credits={"NGN": "20.00"})
    run, _ = payout_run_start(period_key="week-2")
    # the first store was paid before the run was cut short, and has earned more since
    made = payout_create(store_id=first.pk, currency="NGN", run_id=run.pk)
    assert isinstance(made, Payout)
    ledger_adjust(
        store_id=first.pk,
        currency="NGN",
        amount=D("5.00"),
        direction="credit",
        reason="x",
        actor=None,
    )

    done = payout_run_execute(run_id=run.pk)

    assert (done.payouts_created, done.stores_skipped) == (2, {})
    assert sorted(Payout.objects.values_list("store_id", "amount")) == [
        (first.pk, D("10.00")),
        (second.pk, D("20.00")),
    ]
    [log] = [line for line in json_logs() if line.get("message") == "payouts.run_done"]
    assert (log["created"], log["skipped"]) == (1, 0)


def test_a_finished_run_does_nothing_more(clock: Any) -> None:
    run, _ = payout_run_start(period_key="week-3")
    payout_run_execute(run_id=run.pk)
    _shop(credits={"NGN": "10.00"})

    again = payout_run_execute(run_id=run.pk)

    assert (again.pk, again.status, again.payouts_created, again.stores_skipped) == (
        run.pk,
        "done",
        0,
        {},
    )
    assert not Payout.objects.exists()


def test_running_an_unknown_run_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        payout_run_execute(run_id=987654)

    assert raised.value.code == "payout_run_not_found"


def test_only_the_stores_own_active_verified_destination_is_used() -> None:
    # another store's verified destination, and this store's retired verified one
    _shop()
    shop = _shop(destination=DestinationStatus.UNVERIFIED, credits={"NGN": "10.00"})
    PayoutDestination.objects.create(
        store=shop,
        provider="stripe",
        account_code="acct_AbC123xYz",
        status=DestinationStatus.VERIFIED,
        is_active=False,
    )
    bare = _shop(destination=None, credits={"NGN": "10.00"})

    assert payout_create(store_id=shop.pk, currency="NGN") == "no_verified_destination"
    assert payout_create(store_id=bare.pk, currency="NGN") == "no_verified_destination"


def test_a_destination_taking_the_currency_or_any_is_paid() -> None:
    naira = _shop(currency="NGN", credits={"NGN": "10.00"})
    any_ = _shop(currency="", credits={"GHS": "10.00"})

    made = payout_create(store_id=naira.pk, currency="NGN")
    also = payout_create(store_id=any_.pk, currency="GHS")

    assert isinstance(made, Payout) and isinstance(also, Payout)
    assert (made.destination.store_id, also.destination.store_id) == (naira.pk, any_.pk)


# --- payout_retry ---------------------------------------------------------------------------------


def test_a_retry_pays_the_failed_currency_again_and_is_audited(django_user_model: Any) -> None:
    shop = _shop(currency="", credits={"NGN": "30.00", "USD": "12.00"})
    failed = _failed_payout(shop, "USD")
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    retried = payout_retry(payout_id=failed.pk, reason=" Bank   fixed ", actor=staff)

    row = Payout.objects.get(pk=retried.pk)
    assert (row.store_id, row.currency, row.amount, row.retry_of_id, row.actor_id) == (
        shop.pk,
        "USD",
        D("12.00"),
        failed.pk,
        staff.pk,
    )
    action = StaffAction.objects.exclude(kind="adjust").get()
    assert (action.actor_id, action.kind, action.store_id, action.payout_id, action.reason) == (
        staff.pk,
        "retry",
        shop.pk,
        retried.pk,
        "Bank fixed",
    )
    assert action.details == {"failed_payout_id": failed.pk}


def test_a_retry_of_an_unknown_payout_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        payout_retry(payout_id=987654, reason="again", actor=None)

    assert raised.value.code == "payout_not_found"


def test_a_retry_needs_a_reason() -> None:
    shop = _shop(credits={"NGN": "30.00"})
    failed = _failed_payout(shop)

    with pytest.raises(ValidationFailed) as raised:
        payout_retry(payout_id=failed.pk, reason="  ", actor=None)

    assert [(e.field, e.code) for e in raised.value.field_errors] == [("reason", "required")]
    assert Payout.objects.count() == 1


def test_only_a_failed_or_reversed_payout_is_retried_and_once() -> None:
    shop = _shop(credits={"NGN": "30.00"})
    open_ = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(open_, Payout)

    with pytest.raises(PayoutNotRetryable) as raised:
        payout_retry(payout_id=open_.pk, reason="again", actor=None)
    assert (raised.value.code, raised.value.details) == (
        "payout_not_retryable",
        {"status": "pending"},
    )

    payout_apply(payout_id=open_.pk, result=TransferResult(state="reversed", transfer_id=""))
    retried = payout_retry(payout_id=open_.pk, reason="again", actor=None)
    assert retried.retry_of_id == open_.pk
    with pytest.raises(PayoutNotRetryable):
        payout_retry(payout_id=open_.pk, reason="twice", actor=None)
    assert Payout.objects.count() == 2


def test_a_retry_for_a_store_that_cannot_be_paid_says_why_and_writes_nothing() -> None:
    shop = _shop(credits={"NGN": "30.00"})
    failed = _failed_payout(shop)
    PayoutHold.objects.create(store=shop, reason="dispute")

    with pytest.raises(PayoutNotRetryable) as raised:
        payout_retry(payout_id=failed.pk, reason="again", actor=None)

    assert raised.value.details == {"reason": "on_hold"}
    assert Payout.objects.count() == 1
    assert not StaffAction.objects.exclude(kind="adjust").exists()
