"""Staff balance adjustments at their edges: the exact limits are allowed, one step past
them is refused with the code a client reads, and every adjustment, hold and release leaves
an audit record that names the store (whatever its id) and who acted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.common.errors import NotFound, ValidationFailed
from apps.payouts.exceptions import InsufficientAvailable
from apps.payouts.models import LedgerEntry, PayoutHold, StaffAction, StaffActionKind
from apps.payouts.services import ledger_adjust, payouts_hold, payouts_release
from apps.payouts.services.staff import MAX_ADJUSTMENT
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import balance_of

pytestmark = pytest.mark.django_db

D = Decimal


def _adjust(store_id: int, **changes: Any) -> LedgerEntry:
    arguments: dict[str, Any] = {
        "store_id": store_id,
        "currency": "NGN",
        "amount": D("1.00"),
        "direction": "credit",
        "reason": "why",
        "actor": None,
    }
    return ledger_adjust(**{**arguments, **changes})


def test_a_debit_of_exactly_the_available_balance_empties_it() -> None:
    shop = f.store()
    _adjust(shop.pk, amount=D("75.00"))

    _adjust(shop.pk, amount=D("75.00"), direction="debit")

    assert balance_of(shop.pk)["available"] == D("0.00")


def test_a_debit_past_the_available_balance_says_what_is_available() -> None:
    shop = f.store()
    _adjust(shop.pk, amount=D("10.00"))

    with pytest.raises(InsufficientAvailable) as raised:
        _adjust(shop.pk, amount=D("10.01"), direction="debit")

    assert raised.value.details == {"available": "10.00", "currency": "NGN"}
    assert balance_of(shop.pk)["available"] == D("10.00")


def test_the_smallest_and_the_largest_adjustment_are_allowed() -> None:
    shop = f.store()

    smallest = _adjust(shop.pk, amount=D("0.01"))
    largest = _adjust(shop.pk, amount=MAX_ADJUSTMENT)

    assert (smallest.amount, largest.amount) == (D("0.01"), MAX_ADJUSTMENT)
    assert balance_of(shop.pk)["available"] == MAX_ADJUSTMENT + D("0.01")


def test_one_cent_past_the_largest_adjustment_is_out_of_range() -> None:
    with pytest.raises(ValidationFailed) as raised:
        _adjust(f.store().pk, amount=MAX_ADJUSTMENT + D("0.01"))

    assert [(e.field, e.code) for e in raised.value.field_errors] == [("amount", "out_of_range")]
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("currency", ["U$D", "", "NG"])
def test_a_currency_that_is_not_three_letters_is_refused(currency: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _adjust(f.store().pk, currency=currency)

    assert [e.field for e in raised.value.field_errors] == ["currency"]


def test_an_unknown_direction_is_an_invalid_choice() -> None:
    with pytest.raises(ValidationFailed) as raised:
        _adjust(f.store().pk, direction="sideways")

    assert [(e.field, e.code) for e in raised.value.field_errors] == [
        ("direction", "invalid_choice")
    ]


@pytest.mark.parametrize("store_id", [0, -1, 2**63])
def test_a_store_id_no_store_can_have_is_not_found(store_id: int) -> None:
    with pytest.raises(NotFound) as raised:
        _adjust(store_id)

    assert raised.value.code == "store_not_found"


def test_every_adjustment_is_audited_with_its_store_entry_and_signed_amount(
    django_user_model: Any,
) -> None:
    shop = f.store()
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    credit = _adjust(shop.pk, amount=D("40.00"), currency="ngn", actor=staff)
    debit = _adjust(shop.pk, amount=D("15.00"), direction="debit", actor=staff)

    actions = list(StaffAction.objects.order_by("id"))
    assert [(a.kind, a.store_id, a.actor_id) for a in actions] == [
        (StaffActionKind.ADJUST, shop.pk, staff.pk),
        (StaffActionKind.ADJUST, shop.pk, staff.pk),
    ]
    assert [a.details for a in actions] == [
        {"entry_id": credit.pk, "amount": "40.00", "currency": "NGN"},
        {"entry_id": debit.pk, "amount": "-15.00", "currency": "NGN"},
    ]


def test_holding_and_releasing_payouts_is_audited_against_the_store(
    django_user_model: Any,
) -> None:
    shop = f.store(pk=1_000_000)
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    hold = payouts_hold(store_id=shop.pk, reason="Chargeback review", actor=staff)
    payouts_release(store_id=shop.pk, reason="Review done", actor=staff)

    assert (hold.store_id, hold.actor_id, hold.reason) == (shop.pk, staff.pk, "Chargeback review")
    assert not PayoutHold.objects.exists()
    assert list(
        StaffAction.objects.order_by("id").values_list("kind", "store_id", "actor_id", "reason")
    ) == [
        (StaffActionKind.HOLD, shop.pk, staff.pk, "Chargeback review"),
        (StaffActionKind.RELEASE, shop.pk, staff.pk, "Review done"),
    ]
