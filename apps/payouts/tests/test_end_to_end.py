"""Vendor money end to end, over HTTP against the provider sandbox: the vendor registers
a Paystack recipient, a customer orders and pays, the vendor ships, staff record the
delivery in the admin, the return window passes, the scheduler releases the earnings and
runs the payouts, Paystack's signed webhook settles the transfer — and the vendor sees
the payout in their balance, ledger, payouts, email and monthly statement."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.common.scheduler import run_due_jobs
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS
from apps.payouts.models import Payout, PayoutStatus
from apps.payouts.tests import factories as f
from apps.payouts.tests.checks import assert_ledger_consistent
from apps.vendors.tests.factories import StaffFactory, UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def _bearer(user: Any) -> Client:
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {session_start(user=user, client=ClientInfo()).access}"
    )


def _deliver(client: Client, webhook: dict[str, Any]) -> Any:
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in webhook["headers"].items()
        if k.lower() != "content-type"
    }
    return client.post(
        f"/api/v2/webhooks/{webhook['provider']}/",
        webhook["body"],
        content_type="application/json",
        **headers,
    )


def test_a_vendor_is_paid_for_a_delivered_order_after_the_return_window(
    payment_sandbox: SandboxServer,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    time_machine.move_to(START, tick=False)
    settings.PAYOUT_MINIMUMS = {"NGN": Decimal("5000.00")}
    shop = f.store("12.50")
    dress = f.variant(shop, "7500.00", stock=5)
    vendor, customer = _bearer(shop.owner), _bearer(UserFactory.create())

    # The vendor registers where they are paid
    code = f.recipient(payment_sandbox, name="Adire House")
    registered = vendor.post(
        "/api/v1/vendor/payout-destination/",
        {"provider": "paystack", "account_code": code},
        content_type="application/json",
    )
    assert registered.status_code == 201 and registered.json()["status"] == "verified"

    # A customer orders two dresses and pays with Paystack
    with capture(execute=True):
        placed = customer.post(
            "/api/v2/orders/",
            {"items": [{"variant_id": dress.pk, "quantity": 2}], "delivery_address": ADDRESS},
            content_type="application/json",
        )
        assert placed.status_code == 201, placed.content
        order_id = placed.json()["id"]
        started = customer.post(
            f"/api/v2/orders/{order_id}/payments/",
            {"provider": "paystack"},
            content_type="application/json",
        ).json()
    payment_sandbox.pay("paystack", started["reference"])
    [paid_hook] = [w for w in payment_sandbox.sent_webhooks if w["type"] == "charge.success"]
    with capture(execute=True):
        assert _deliver(Client(), paid_hook).status_code == 200
    assert Order.objects.get(pk=order_id).status == OrderStatus.PAID
    held = vendor.get("/api/v1/vendor/balance/").json()["balances"]
    assert [(b["pending"], b["available"]) for b in held] == [("13125.00", "0.00")]

    # The vendor ships; three days later staff record the delivery in the admin
    [line] = vendor.get("/api/v1/vendor/order-lines/").json()["results"]
    with capture(execute=True):
        assert vendor.post(f"/api/v1/vendor/order-lines/{line['id']}/fulfil/").status_code == 200
    time_machine.shift(timedelta(days=3))
    admin = Client()
    admin.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    with capture(execute=True):
        admin.post(
            "/admin/orders/order/",
            {"action": "mark_delivered", "_selected_action": [order_id]},
        )
    assert Order.objects.get(pk=order_id).status == OrderStatus.DELIVERED

    # Within the return window the scheduler releases nothing and pays nothing
    time_machine.shift(timedelta(days=6, hours=23))
    with capture(execute=True):
        run_due_jobs()
    assert not Payout.objects.exists()

    # Past it, the scheduler releases the earnings and the weekly run pays them out
    time_machine.shift(timedelta(days=7))
    mail.outbox.clear()
    with capture(execute=True):
        run_due_jobs()
    payout = Payout.objects.get()
    assert (payout.amount, payout.status) == (Decimal("13125.00"), PayoutStatus.IN_TRANSIT)
    [transfer] = payment_sandbox.transfers()["transfers"]
    assert (transfer["amount"], transfer["destination"], transfer["reference"]) == (
        1312500,
        code,
        payout.reference,
    )

    # Paystack's signed webhook settles it
    [settled] = [w for w in payment_sandbox.sent_webhooks if w["type"] == "transfer.success"]
    with capture(execute=True):
        assert _deliver(Client(), settled).status_code == 200

    # The vendor (signed in again: two weeks went by) sees it everywhere
    vendor = _bearer(shop.owner)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    [balance] = vendor.get("/api/v1/vendor/balance/").json()["balances"]
    assert (balance["available"], balance["paid_out"], balance["in_transit"]) == (
        "0.00",
        "13125.00",
        "0.00",
    )
    ledger = vendor.get("/api/v1/vendor/ledger/").json()["results"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [
        ("payout", "-13125.00"),
        ("release", "0.00"),
        ("commission", "-1875.00"),
        ("sale", "15000.00"),
    ]
    [listed] = vendor.get("/api/v1/vendor/payouts/").json()["results"]
    assert (listed["status"], listed["reference"]) == ("paid", payout.reference)
    assert [m.subject for m in mail.outbox if m.to == [shop.owner.email]] == [
        f"Payout of NGN 13125.00 sent to {shop.name}"
    ]
    statement = vendor.get("/api/v1/vendor/statement/?month=2026-06")
    rows = list(csv.DictReader(io.StringIO(statement.content.decode())))
    assert [(row["type"], row["amount"], row["available"]) for row in rows] == [
        ("opening_balance", "", "0.00"),
        ("sale", "15000.00", "0.00"),
        ("commission", "-1875.00", "0.00"),
        ("release", "0.00", "13125.00"),
        ("payout", "-13125.00", "0.00"),
        ("closing_balance", "", "0.00"),
    ]
    assert rows[-1]["paid_out"] == "13125.00"
    assert_ledger_consistent()
