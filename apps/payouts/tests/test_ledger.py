"""The vendor ledger: a paid order's sale and commission (held), refunds taken back in
proportion (held, available, or as debt after a payout), the hold ended after delivery,
staff adjustments — each once, the balance always the sum of the entries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.common.errors import ValidationFailed
from apps.orders.models import OrderStatus
from apps.orders.services import order_mark_paid, order_mark_refunded
from apps.orders.tests.factories import place_order
from apps.payouts.exceptions import InsufficientAvailable
from apps.payouts.models import Earning, EarningStatus, EntryKind, LedgerEntry, StaffAction
from apps.payouts.services import (
    earnings_record,
    earnings_release_due,
    ledger_adjust,
    payout_create,
    refund_record,
)
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent, balance_of

pytestmark = pytest.mark.django_db

D = Decimal


def _kinds(store_id: int) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(store_id=store_id).order_by("id").values_list("kind", "amount")
    )


def test_a_paid_order_records_each_stores_sale_and_commission_held_once() -> None:
    # Given an order of two stores, paid
    first, second = f.store("10.00"), f.store("15.00")
    order = f.paid([(f.variant(first, "1000.00"), 2), (f.variant(second, "300.00"), 1)])

    # When its record runs again (a redelivered task)
    earnings_record(order_id=order.pk)

    # Then each store has one sale and one commission, held
    assert _kinds(first.pk) == [("sale", D("2000.00")), ("commission", D("-200.00"))]
    assert _kinds(second.pk) == [("sale", D("300.00")), ("commission", D("-45.00"))]
    assert balance_of(first.pk) == {
        "pending": D("1800.00"),
        "available": D("0.00"),
        "debt": D("0.00"),
        "paid_out": D("0.00"),
    }
    assert Earning.objects.count() == 2
    assert_ledger_consistent()


def test_an_unpaid_order_records_nothing() -> None:
    order = place_order(items=[(f.variant(f.store()), 1)])

    assert earnings_record(order_id=order.pk) == []
    assert not LedgerEntry.objects.exists()


def test_a_partial_refund_takes_back_its_share_from_each_store_and_the_commission_too() -> None:
    first, second = f.store("10.00"), f.store("20.00")
    order = f.paid([(f.variant(first, "600.00"), 1), (f.variant(second, "400.00"), 1)])

    refund = f.refunded(order, "250.00")
    assert refund_record(refund_id=refund.pk) == "recorded"
    assert refund_record(refund_id=refund.pk) == "already recorded"

    # 60 % / 40 % of 250: 150 and 100; the commission given back in the same proportion
    assert _kinds(first.pk)[2:] == [("commission_refund", D("15.00")), ("refund", D("-150.00"))]
    assert _kinds(second.pk)[2:] == [("commission_refund", D("20.00")), ("refund", D("-100.00"))]
    assert balance_of(first.pk)["pending"] == D("405.00")  # 540 - 135
    assert balance_of(second.pk)["pending"] == D("240.00")  # 320 - 80
    assert_ledger_consistent()


def test_refunds_of_money_that_was_never_the_orders_are_ignored() -> None:
    order = f.paid([(f.variant(f.store()), 1)])
    flagged = f.refunded(order, "1000.00", flagged="already_paid")

    assert refund_record(refund_id=flagged.pk) == "not revenue"
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_a_refund_recorded_before_the_sale_records_the_sale_first() -> None:
    shop = f.store()
    order = place_order(items=[(f.variant(shop, "500.00"), 1)])
    order_mark_paid(order_id=order.pk)  # its own record has not run yet
    refund = f.refunded(order, "500.00")

    assert refund_record(refund_id=refund.pk) == "recorded"

    assert [kind for kind, _ in _kinds(shop.pk)] == [
        "sale",
        "commission",
        "commission_refund",
        "refund",
    ]
    assert Earning.objects.get().status == EarningStatus.REVERSED
    assert balance_of(shop.pk)["pending"] == 0


def test_earnings_become_available_only_after_the_hold_that_follows_delivery(
    time_machine: Any,
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    shop = f.store("10.00")
    waiting = f.paid([(f.variant(shop, "1000.00"), 1)])  # paid, never delivered
    order = f.delivered(f.paid([(f.variant(shop, "500.00"), 1)]))

    time_machine.shift(timedelta(days=7) - timedelta(seconds=1))
    assert earnings_release_due() == 0
    assert balance_of(shop.pk)["available"] == 0

    time_machine.shift(timedelta(seconds=1))
    assert earnings_release_due() == 1
    assert earnings_release_due() == 0  # once

    assert balance_of(shop.pk) == {
        "pending": D("900.00"),
        "available": D("450.00"),
        "debt": D("0.00"),
        "paid_out": D("0.00"),
    }
    entry = LedgerEntry.objects.get(kind=EntryKind.RELEASE)
    assert (entry.order_id, entry.amount, entry.pending, entry.available) == (
        order.pk,
        D("0.00"),
        D("-450.00"),
        D("450.00"),
    )
    assert Earning.objects.get(order=waiting).status == EarningStatus.HELD
    assert_ledger_consistent()


def test_a_part_refunded_in_full_never_becomes_available(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    shop = f.store()
    order = f.paid([(f.variant(shop, "800.00"), 1)])
    refund_record(refund_id=f.refunded(order, "800.00").pk)
    order_mark_refunded(order_id=order.pk)
    other = f.delivered(f.paid([(f.variant(shop, "100.00"), 1)]))
    refund_record(refund_id=f.refunded(other, "100.00").pk)  # delivered, then refunded

    time_machine.shift(timedelta(days=30))
    earnings_release_due()

    assert balance_of(shop.pk) == {
        b: D("0.00") for b in ("pending", "available", "debt", "paid_out")
    }
    assert not LedgerEntry.objects.filter(kind=EntryKind.RELEASE).exists()
    assert set(Earning.objects.values_list("status", flat=True)) == {EarningStatus.REVERSED}
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED


def test_a_refund_after_release_comes_out_of_the_available_balance(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    shop = f.store("10.00")
    order = f.delivered(f.paid([(f.variant(shop, "1000.00"), 1)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()

    refund_record(refund_id=f.refunded(order, "400.00").pk)

    assert balance_of(shop.pk)["available"] == D("540.00")  # 900 - 400 + 40
    assert_ledger_consistent()


def test_a_refund_after_payout_is_a_debt_recovered_from_later_earnings(
    payment_sandbox: Any, time_machine: Any
) -> None:
    # Given a store paid out everything it had
    time_machine.move_to(timezone.now(), tick=False)
    shop = f.store("10.00")
    f.destination(payment_sandbox, shop)
    order = f.delivered(f.paid([(f.variant(shop, "1000.00"), 1)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    payout = payout_create(store_id=shop.pk, currency="NGN")
    assert not isinstance(payout, str) and payout.amount == D("900.00")

    # When the customer gets 500 back
    refund_record(refund_id=f.refunded(order, "500.00").pk)

    # Then the store owes 450 (500 less its 50 of commission given back)
    assert balance_of(shop.pk) == {
        "pending": D("0.00"),
        "available": D("0.00"),
        "debt": D("450.00"),
        "paid_out": D("900.00"),
    }
    assert payout_create(store_id=shop.pk, currency="NGN") == "below_minimum"

    # And the next release pays the debt back before anything is available
    later = f.delivered(f.paid([(f.variant(shop, "300.00"), 2)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    assert balance_of(shop.pk)["debt"] == 0
    assert balance_of(shop.pk)["available"] == D("90.00")  # 540 - 450
    assert later.pk
    assert_ledger_consistent()


def test_staff_adjust_a_balance_with_a_reason(django_user_model: Any) -> None:
    shop = f.store()
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    credit = ledger_adjust(
        store_id=shop.pk,
        currency="ngn",
        amount=D("250.00"),
        direction="credit",
        reason="Goodwill for a late delivery",
        actor=staff,
    )
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D("50.00"),
        direction="debit",
        reason="Fee",
        actor=staff,
    )

    assert (credit.kind, credit.amount, credit.available, credit.actor) == (
        "adjustment",
        D("250.00"),
        D("250.00"),
        staff,
    )
    assert balance_of(shop.pk)["available"] == D("200.00")
    assert list(StaffAction.objects.values_list("kind", "reason").order_by("id")) == [
        ("adjust", "Goodwill for a late delivery"),
        ("adjust", "Fee"),
    ]
    with pytest.raises(InsufficientAvailable):
        ledger_adjust(
            store_id=shop.pk,
            currency="NGN",
            amount=D("200.01"),
            direction="debit",
            reason="x",
            actor=staff,
        )
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"currency": "NAIRA"}, "currency"),
        ({"amount": D("0.001")}, "amount"),
        ({"amount": D("0")}, "amount"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_a_bad_adjustment_names_the_field(changes: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {
        "store_id": f.store().pk,
        "currency": "NGN",
        "amount": D("1.00"),
        "direction": "credit",
        "reason": "why",
        "actor": None,
    }

    with pytest.raises(ValidationFailed) as raised:
        ledger_adjust(**{**arguments, **changes})

    assert [error.field for error in raised.value.field_errors] == [field]
    assert not LedgerEntry.objects.exists()


def test_a_credit_pays_a_debt_back_first(payment_sandbox: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    shop = f.store("0.00")
    f.destination(payment_sandbox, shop)
    order = f.delivered(f.paid([(f.variant(shop, "100.00"), 1)]))
    time_machine.shift(timedelta(days=8))
    earnings_release_due()
    payout_create(store_id=shop.pk, currency="NGN")
    refund_record(refund_id=f.refunded(order, "100.00").pk)
    mail.outbox.clear()

    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D("150.00"),
        direction="credit",
        reason="x",
        actor=None,
    )

    assert balance_of(shop.pk) == {
        "pending": D("0.00"),
        "available": D("50.00"),
        "debt": D("0.00"),
        "paid_out": D("100.00"),
    }
    assert_ledger_consistent()
