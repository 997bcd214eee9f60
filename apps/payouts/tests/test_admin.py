"""Vendor money in the admin: read-only lists; adjusting, holding, releasing and retrying
ask for a reason first and record it with the staff member; commission rules are edited
here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.authentication.models import User
from apps.payouts.models import (
    LedgerEntry,
    Payout,
    PayoutDestination,
    PayoutHold,
    StaffAction,
    StoreBalance,
)
from apps.payouts.services import ledger_adjust, payout_create
from apps.payouts.tests import factories as f
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> User:
    user: User = StaffFactory.create(is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _balance() -> StoreBalance:
    shop = f.store()
    ledger_adjust(
        store_id=shop.pk,
        currency="NGN",
        amount=Decimal("300.00"),
        direction="credit",
        reason="x",
        actor=None,
    )
    return StoreBalance.objects.get(store=shop)


def test_every_list_renders_and_nothing_can_be_added_or_edited(
    admin_client: Client,
) -> None:
    _balance()
    for model in ("storebalance", "ledgerentry", "earning", "payout", "payoutrun"):
        url = reverse(f"admin:payouts_{model}_changelist")
        assert admin_client.get(url).status_code == 200, model
        assert admin_client.get(reverse(f"admin:payouts_{model}_add")).status_code == 403
    entry = LedgerEntry.objects.get()
    page = admin_client.get(reverse("admin:payouts_ledgerentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    for model in ("payoutdestination", "payouthold", "staffaction", "commissionrule"):
        assert admin_client.get(reverse(f"admin:payouts_{model}_changelist")).status_code == 200


def test_an_adjustment_asks_for_a_reason_and_records_it(
    admin_client: Client, admin_user: User
) -> None:
    balance = _balance()
    url = reverse("admin:payouts_storebalance_changelist")
    chosen = {"action": "adjust", "_selected_action": [balance.pk]}

    asked = admin_client.post(url, chosen)
    incomplete = admin_client.post(url, {**chosen, "apply": "1", "direction": "debit"})
    done = admin_client.post(
        url,
        {**chosen, "apply": "1", "direction": "debit", "amount": "120.00", "reason": "Late fee"},
        follow=True,
    )

    assert asked.status_code == 200 and b"Adjust the balance" in asked.content
    assert incomplete.status_code == 200 and b"This field is required" in incomplete.content
    assert done.status_code == 200
    balance.refresh_from_db()
    assert balance.available == Decimal("180.00")
    entry = LedgerEntry.objects.order_by("-id").first()
    assert entry is not None and (entry.reason, entry.actor) == ("Late fee", admin_user)
    assert StaffAction.objects.filter(kind="adjust", actor=admin_user, reason="Late fee").exists()


def test_holding_and_releasing_payouts_from_the_admin(
    admin_client: Client, admin_user: User
) -> None:
    balance = _balance()
    url = reverse("admin:payouts_storebalance_changelist")
    chosen = {"_selected_action": [balance.pk], "apply": "1"}

    admin_client.post(url, {**chosen, "action": "hold_payouts", "reason": "Dispute"})
    assert PayoutHold.objects.get(store=balance.store).reason == "Dispute"
    admin_client.post(url, {**chosen, "action": "release_payouts", "reason": "Settled"})

    assert not PayoutHold.objects.exists()
    assert list(StaffAction.objects.order_by("id").values_list("kind", "reason")) == [
        ("adjust", "x"),
        ("hold", "Dispute"),
        ("release", "Settled"),
    ]


def test_a_failed_payout_is_retried_from_the_admin_with_a_reason(
    admin_client: Client,
    admin_user: User,
    payment_sandbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    balance = _balance()
    f.destination(payment_sandbox, balance.store)
    payment_sandbox.set_behaviour("*", "transfer_failed", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        failed = payout_create(store_id=balance.store_id, currency="NGN")
    assert isinstance(failed, Payout)
    failed.refresh_from_db()
    assert failed.status == "failed"
    url = reverse("admin:payouts_payout_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url,
            {
                "action": "retry_failed",
                "_selected_action": [failed.pk],
                "apply": "1",
                "reason": "Balance topped up",
            },
        )
    asked = admin_client.post(url, {"action": "ask_provider", "_selected_action": [failed.pk]})

    retry = Payout.objects.get(retry_of=failed)
    assert retry.status == "in_transit" and retry.actor == admin_user
    assert StaffAction.objects.get(kind="retry").reason == "Balance topped up"
    assert asked.status_code == 302
    assert PayoutDestination.objects.count() == 1
