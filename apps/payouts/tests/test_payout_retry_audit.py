"""A staff retry of a failed payout is audited (who, which store, the new payout, the
failed one it replaces), and a staff reason is required and bounded: an empty reason is
refused, one of exactly the longest length is kept whole."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.common.errors import ValidationFailed
from apps.payments.providers.base import TransferResult
from apps.payouts.models import Payout, PayoutStatus, StaffAction, StaffActionKind
from apps.payouts.services import ledger_adjust, payout_apply, payout_create, payout_retry
from apps.payouts.services.payouts import REASON_MAX_LENGTH, reason_clean
from apps.payouts.tests import factories as f
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_retry_is_audited_with_the_store_the_new_and_the_failed_payout(
    payment_sandbox: SandboxServer, django_user_model: Any
) -> None:
    shop = f.store()
    f.destination(payment_sandbox, shop)
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=D("80.00"),
        direction="credit",
        reason="x",
        actor=None,
    )
    failed = payout_create(store_id=shop.pk, currency="NGN")
    assert isinstance(failed, Payout)
    payout_apply(payout_id=failed.pk, result=TransferResult(state="failed", transfer_id=""))
    staff = django_user_model.objects.create_user(email="ops@example.com", password="x")

    retried = payout_retry(payout_id=failed.pk, reason="  Balance   topped up ", actor=staff)

    assert (retried.retry_of_id, retried.amount, retried.status) == (
        failed.pk,
        D("80.00"),
        PayoutStatus.PENDING,
    )
    action = StaffAction.objects.get(kind=StaffActionKind.RETRY)
    assert (action.actor_id, action.store_id, action.payout_id, action.reason) == (
        staff.pk,
        shop.pk,
        retried.pk,
        "Balance topped up",
    )
    assert action.details == {"failed_payout_id": failed.pk}


def test_an_empty_reason_is_required() -> None:
    for empty in ("", "   "):
        with pytest.raises(ValidationFailed) as raised:
            reason_clean(empty)
        assert [(e.field, e.code) for e in raised.value.field_errors] == [("reason", "required")]


def test_a_reason_of_exactly_the_longest_length_is_kept_whole() -> None:
    longest = "x" * REASON_MAX_LENGTH

    assert reason_clean(longest) == longest
    with pytest.raises(ValidationFailed) as raised:
        reason_clean(longest + "x")
    assert [(e.field, e.code) for e in raised.value.field_errors] == [("reason", "max_length")]
