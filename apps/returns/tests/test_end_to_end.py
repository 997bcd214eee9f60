"""Returns end to end over the API, with the provider sandbox: a customer pays for two
shirts, the parcel is delivered; one comes back for a larger size — the store approves,
receives it, and sends the replacement as a new parcel — and the other for money: the
refund lands with Paystack, the store's ledger gives it back and the customer is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from apps.common.tests.api_clients import deliver_webhook, post_json, signed_in
from apps.inventory.models import Stock
from apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from apps.payouts.models import EntryKind, LedgerEntry
from apps.returns.tests.factories import two_sizes
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def test_an_exchange_for_a_larger_size_and_a_refund_that_lands(
    payment_sandbox: SandboxServer, time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    time_machine.move_to(START, tick=False)
    store = f.shop()
    medium, large = two_sizes(store, price="15000.00", stock=4)
    other = f.variant(store, "8000.00")
    user = UserFactory.create()
    customer = signed_in(user)

    # Bought, paid with Paystack, shipped and delivered
    with capture(execute=True):
        placed = post_json(
            customer,
            "/api/v2/orders/",
            {
                "items": [
                    {"variant_id": medium.pk, "quantity": 1},
                    {"variant_id": other.pk, "quantity": 1},
                ],
                "shipping_address": f.LAGOS,
            },
        ).json()
        started = post_json(
            customer, f"/api/v2/orders/{placed['id']}/payments/", {"provider": "paystack"}
        )
    payment_sandbox.pay("paystack", started.json()["reference"])
    [paid] = [w for w in payment_sandbox.sent_webhooks if w["type"] == "charge.success"]
    with capture(execute=True):
        assert deliver_webhook(paid).status_code == 200
    vendor = signed_in(store.owner)
    [parcel] = vendor.get("/api/v1/vendor/shipments/").json()["results"]
    with capture(execute=True):
        post_json(
            vendor,
            f"/api/v1/vendor/shipments/{parcel['id']}/ship/",
            {"carrier": "DHL", "tracking_number": "JD0001"},
        )
        post_json(
            customer, f"/api/v2/orders/{placed['id']}/shipments/{parcel['id']}/confirm-delivery/"
        )
    lines = {line["variant_id"]: line["id"] for line in placed["items"]}

    # Three days later: the medium is too small (exchange for L), the other goes back
    time_machine.shift(timedelta(days=3))
    customer, vendor = signed_in(user), signed_in(store.owner)
    with capture(execute=True):
        exchange = post_json(
            customer,
            "/api/v2/returns/",
            {
                "shipment_id": parcel["id"],
                "lines": [
                    {
                        "line_id": lines[medium.pk],
                        "quantity": 1,
                        "reason": "too_small",
                        "exchange_variant_id": large.pk,
                    }
                ],
            },
        ).json()
        refund = post_json(
            customer,
            "/api/v2/returns/",
            {
                "shipment_id": parcel["id"],
                "lines": [{"line_id": lines[other.pk], "quantity": 1, "reason": "changed_mind"}],
            },
        ).json()
    assert Stock.objects.get(variant=large).reserved == 1

    # The store approves both and receives the items
    mail.outbox.clear()
    for made in (exchange, refund):
        with capture(execute=True):
            assert (
                post_json(vendor, f"/api/v1/vendor/returns/{made['id']}/approve/").status_code
                == 200
            )
            received = post_json(
                vendor,
                f"/api/v1/vendor/returns/{made['id']}/receive/",
                {
                    "lines": [{"line_id": made["lines"][0]["line_id"], "sellable": 1}],
                },
            )
        assert received.status_code == 200, received.content

    # The exchange: the replacement is sold and goes out as a new parcel
    swapped = customer.get(f"/api/v2/returns/{exchange['id']}/").json()
    assert (swapped["status"], swapped["refund_amount"]) == ("closed", "0.00")
    with capture(execute=True):
        sent = post_json(
            vendor,
            f"/api/v1/vendor/shipments/{swapped['exchange_shipment_id']}/ship/",
            {"carrier": "DHL", "tracking_number": "JD0002"},
        )
    assert sent.status_code == 200, sent.content
    told = [m for m in mail.outbox if m.subject.startswith("Your replacement from")]
    assert len(told) == 1 and "(L, " in told[0].body and "JD0002" in told[0].body
    stock = Stock.objects.get(variant=large)
    assert (stock.on_hand, stock.reserved) == (3, 0)
    order = customer.get(f"/api/v2/orders/{placed['id']}/").json()
    assert order["status"] == "delivered"
    assert [s["tracking_number"] for s in order["shipments"]] == ["JD0001", "JD0002"]

    # The refund landed at Paystack: the payment, the return and the ledger say so
    done = customer.get(f"/api/v2/returns/{refund['id']}/").json()
    assert (done["status"], done["refund_amount"], done["refund_status"]) == (
        "closed",
        "8000.00",
        "succeeded",
    )
    landed = Refund.objects.get(status=RefundStatus.SUCCEEDED)
    assert (landed.amount, landed.store_id) == (Decimal("8000.00"), store.pk)
    payment = Payment.objects.get(order_id=placed["id"])
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    taken = LedgerEntry.objects.get(kind=EntryKind.REFUND, store=store)
    assert taken.amount == Decimal("-8000.00")
    subjects = [m.subject for m in mail.outbox if m.to == [user.email]]
    assert f"Your return {refund['id']} is complete" in subjects
    assert Stock.objects.get(variant=other).on_hand == 20  # back on hand
