"""A payout destination registered while the provider did not answer is kept unverified
(never paid) and verified later by asking again: only that destination changes, and it
gets the account's name, currency and the time it was confirmed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.payouts.models import DestinationStatus, PayoutDestination
from apps.payouts.services import payout_destination_register, payout_destination_verify
from apps.payouts.tests import factories as f
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db


def _registered_while_down(sandbox: SandboxServer, name: str) -> PayoutDestination:
    code = f.recipient(sandbox, name)
    sandbox.set_behaviour("*", "error_5xx", times=1)
    return payout_destination_register(
        store=f.store(), provider="paystack", account_code=code, actor=None
    )


def test_an_unanswered_registration_is_verified_later_and_alone(
    payment_sandbox: SandboxServer,
) -> None:
    first = _registered_while_down(payment_sandbox, "Adire House")
    second = _registered_while_down(payment_sandbox, "Bella Shoes")
    assert [(d.status, d.last_error, d.verified_at) for d in (first, second)] == [
        (DestinationStatus.UNVERIFIED, "the provider did not answer", None)
    ] * 2
    asked_at = timezone.now()

    assert payout_destination_verify(destination_id=first.pk) == DestinationStatus.VERIFIED

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.account_name, first.currency, first.last_error) == (
        DestinationStatus.VERIFIED,
        "Adire House",
        "NGN",
        "",
    )
    assert first.verified_at is not None and first.verified_at >= asked_at
    assert (second.status, second.verified_at) == (DestinationStatus.UNVERIFIED, None)
