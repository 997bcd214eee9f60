"""Registering and re-verifying payout destinations, pinned exactly against a recording
provider: which codes are refused before asking (Square, unknown providers, malformed
codes) and with which field and code, what the provider is asked, what a confirmed, a
refused and an unanswered check write (status, name, currency, time, error, who), which
destination is retired, and what asking again later changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.common.errors import NotFound, ValidationFailed
from apps.payments.providers.base import (
    DestinationCheck,
    PermanentProviderError,
    TransientProviderError,
)
from apps.payouts.models import PayoutDestination
from apps.payouts.services import destinations
from apps.payouts.services.destinations import (
    payout_destination_register,
    payout_destination_verify,
)
from apps.payouts.tests import factories as f
from apps.vendors.models import Store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PAYSTACK_CODE = "RCP_abc123xyz"
STRIPE_CODE = "acct_AbC123xYz"


@dataclass
class FakeProvider:
    """Answers destination checks as told and records who was asked about what."""

    answer: DestinationCheck | Exception = field(
        default_factory=lambda: DestinationCheck(
            verified=True, account_name="Adire House", currency="NGN"
        )
    )
    asked: list[tuple[str | None, str | None]] = field(default_factory=list)
    _name: str | None = None

    def get(self, name: str | None) -> FakeProvider:
        self._name = name
        return self

    def destination_check(self, *, account_code: str | None) -> DestinationCheck:
        self.asked.append((self._name, account_code))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, time_machine: Any) -> FakeProvider:
    time_machine.move_to(NOW, tick=False)
    fake = FakeProvider()
    monkeypatch.setattr(destinations, "get_transfer_provider", fake.get)
    return fake


def _register(shop: Store, provider: str = "paystack", code: str = PAYSTACK_CODE) -> Any:
    return payout_destination_register(store=shop, provider=provider, account_code=code, actor=None)


def _refusal(raised: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in raised.value.field_errors]


def _row(destination: PayoutDestination) -> PayoutDestination:
    return PayoutDestination.objects.get(pk=destination.pk)


# --- register: refused before asking ------------------------------------------------------


def test_square_cannot_be_a_destination(provider: FakeProvider) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _register(f.store(), "square", "sq0idp-anything")

    assert _refusal(raised) == [("provider", "payouts_unsupported")]
    assert provider.asked == []
    assert not PayoutDestination.objects.exists()


def test_an_unknown_provider_is_an_invalid_choice(provider: FakeProvider) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _register(f.store(), "paypal", PAYSTACK_CODE)

    assert _refusal(raised) == [("provider", "invalid_choice")]
    assert provider.asked == []


@pytest.mark.parametrize(
    ("provider_name", "code", "hint"),
    [
        ("paystack", "acct_AbC123xYz", "RCP_…"),
        ("paystack", "RCP_ABC123XYZ", "RCP_…"),  # Paystack codes are lower case
        ("paystack", "", "RCP_…"),
        ("stripe", PAYSTACK_CODE, "acct_…"),
        ("stripe", "acct_12345", "acct_…"),  # too short
    ],
)
def test_a_malformed_account_code_is_refused_with_the_providers_format(
    provider: FakeProvider, provider_name: str, code: str, hint: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        _register(f.store(), provider_name, code)

    assert _refusal(raised) == [("account_code", "invalid")]
    assert f"({hint})" in raised.value.field_errors[0].message
    assert provider.asked == []


def test_a_missing_account_code_is_refused(provider: FakeProvider) -> None:
    missing: Any = None

    with pytest.raises(ValidationFailed) as raised:
        payout_destination_register(
            store=f.store(), provider="paystack", account_code=missing, actor=None
        )

    assert _refusal(raised) == [("account_code", "invalid")]


# --- register: asked at the provider -----------------------------------------------------


def test_a_confirmed_destination_is_verified_with_the_providers_details(
    provider: FakeProvider, django_user_model: Any
) -> None:
    shop = f.store()
    vendor = django_user_model.objects.create_user(email="vendor@example.com", password="x")

    made = payout_destination_register(
        store=shop, provider="paystack", account_code=f"  {PAYSTACK_CODE} ", actor=vendor
    )

    assert provider.asked == [("paystack", PAYSTACK_CODE)]
    row = _row(made)
    assert (row.store_id, row.provider, row.account_code, row.is_active) == (
        shop.pk,
        "paystack",
        PAYSTACK_CODE,
        True,
    )
    assert (row.status, row.account_name, row.currency, row.verified_at, row.last_error) == (
        "verified",
        "Adire House",
        "NGN",
        NOW,
        "",
    )
    assert row.created_by_id == vendor.pk


def test_a_stripe_account_is_asked_about_at_stripe(provider: FakeProvider) -> None:
    provider.answer = DestinationCheck(verified=True, account_name="Bella Shoes", currency="")

    made = _register(f.store(), "stripe", STRIPE_CODE)

    assert provider.asked == [("stripe", STRIPE_CODE)]
    assert (made.provider, made.account_code, made.currency, made.status) == (
        "stripe",
        STRIPE_CODE,
        "",
        "verified",
    )


def test_the_providers_name_and_currency_are_cut_to_their_columns(
    provider: FakeProvider,
) -> None:
    provider.answer = DestinationCheck(verified=True, account_name="n" * 250, currency="NGNX")

    made = _register(f.store())

    row = _row(made)
    assert (row.account_name, row.currency) == ("n" * 200, "NGN")


def test_a_destination_the_provider_refuses_is_not_registered(provider: FakeProvider) -> None:
    shop = f.store()
    kept = _register(shop)
    provider.answer = DestinationCheck(verified=False, reason="recipient is inactive")

    with pytest.raises(ValidationFailed) as raised:
        _register(shop, code="RCP_other123")

    assert _refusal(raised) == [("account_code", "destination_rejected")]
    assert list(PayoutDestination.objects.values_list("pk", "is_active")) == [(kept.pk, True)]


@pytest.mark.parametrize(
    "error", [TransientProviderError("timeout"), PermanentProviderError("bad request")]
)
def test_an_unanswered_check_leaves_the_destination_unverified(
    provider: FakeProvider, error: Exception
) -> None:
    provider.answer = error
    shop = f.store()

    made = _register(shop)

    row = _row(made)
    assert (row.status, row.verified_at, row.last_error) == (
        "unverified",
        None,
        "the provider did not answer",
    )
    assert (row.account_name, row.currency, row.is_active, row.store_id) == (
        "",
        "",
        True,
        shop.pk,
    )
    assert row.created_by_id is None


def test_a_new_destination_retires_only_the_stores_previous_one(provider: FakeProvider) -> None:
    shop = f.store()
    other_shop = f.store()
    previous = _register(shop)
    others = _register(other_shop)

    current = _register(shop, "stripe", STRIPE_CODE)

    assert (_row(previous).is_active, _row(current).is_active, _row(others).is_active) == (
        False,
        True,
        True,
    )
    assert PayoutDestination.objects.filter(store=shop, is_active=True).get().pk == current.pk


# --- verify (the reconciler) ------------------------------------------------------------


def _unverified(provider: FakeProvider, shop: Store | None = None) -> PayoutDestination:
    provider.answer = TransientProviderError("down")
    made: PayoutDestination = _register(shop or f.store())
    provider.asked.clear()
    return made


def test_verify_confirms_an_unverified_destination_alone(
    provider: FakeProvider, time_machine: Any
) -> None:
    first = _unverified(provider)
    second = _unverified(provider)
    time_machine.shift(timedelta(minutes=10))
    provider.answer = DestinationCheck(verified=True, account_name="m" * 220, currency="GHSX")

    assert payout_destination_verify(destination_id=first.pk) == "verified"

    assert provider.asked == [("paystack", PAYSTACK_CODE)]
    row = _row(first)
    assert (row.status, row.verified_at, row.account_name, row.currency, row.last_error) == (
        "verified",
        NOW + timedelta(minutes=10),
        "m" * 200,
        "GHS",
        "",
    )
    untouched = _row(second)
    assert (untouched.status, untouched.verified_at, untouched.last_error) == (
        "unverified",
        None,
        "the provider did not answer",
    )


def test_verify_keeps_a_refused_destination_unverified_with_the_reason(
    provider: FakeProvider,
) -> None:
    destination = _unverified(provider)
    provider.answer = DestinationCheck(verified=False, reason="q" * 300)

    assert payout_destination_verify(destination_id=destination.pk) == "rejected"

    row = _row(destination)
    assert (row.status, row.last_error, row.verified_at) == ("unverified", "q" * 255, None)


def test_verify_without_an_answer_changes_nothing(provider: FakeProvider) -> None:
    destination = _unverified(provider)

    assert payout_destination_verify(destination_id=destination.pk) == "unverified"

    assert provider.asked == [("paystack", PAYSTACK_CODE)]
    assert _row(destination).last_error == "the provider did not answer"


def test_verify_does_not_ask_about_verified_or_retired_destinations(
    provider: FakeProvider,
) -> None:
    shop = f.store()
    retired = _unverified(provider, shop)
    provider.answer = DestinationCheck(verified=True, account_name="Adire House", currency="NGN")
    verified = _register(shop, code="RCP_second123")
    provider.asked.clear()

    assert payout_destination_verify(destination_id=verified.pk) == "verified"
    assert payout_destination_verify(destination_id=retired.pk) == "unverified"

    assert provider.asked == []
    assert _row(retired).status == "unverified"


def test_verify_of_an_unknown_destination_is_not_found(provider: FakeProvider) -> None:
    with pytest.raises(NotFound) as raised:
        payout_destination_verify(destination_id=987654)

    assert raised.value.code == "destination_not_found"
