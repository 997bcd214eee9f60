"""Fulfilment end to end over the API, with the provider sandbox: a customer quotes a
basket from two stores, orders to a saved address with a chosen method, pays through
Paystack; each vendor packs and ships with tracking; the customer sees every parcel and
its tracking, is emailed, confirms one delivery, and the scheduler delivers the other
after the window — the order is delivered and the vendors' hold starts from there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from apps.common.scheduler import run_due_jobs
from apps.common.tests.api_clients import deliver_webhook, post_json, signed_in
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db

START = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)


def test_quote_order_pay_ship_track_and_deliver(
    payment_sandbox: SandboxServer,
    time_machine: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    time_machine.move_to(START, tick=False)
    settings.SHIPMENT_AUTO_DELIVERY_DAYS = 14
    adire, kente = f.shop(), f.shop()
    f.method(adire, "2500.00", name="Nationwide", countries=["NG"])
    express = f.method(adire, "5000.00", name="Express", countries=["NG"], days=(0, 1))
    f.method(kente, "1500.00")
    dress, cloth = f.variant(adire, "18000.00"), f.variant(kente, "9000.00")
    user = UserFactory.create()
    customer = signed_in(user)

    # The customer saves an address, then asks what the basket costs to ship there
    saved = post_json(customer, "/api/v2/addresses/", {**f.LAGOS, "label": "Home"})
    assert saved.status_code == 201, saved.content
    basket = {
        "items": [
            {"variant_id": dress.pk, "quantity": 1},
            {"variant_id": cloth.pk, "quantity": 2},
        ],
        "address_id": saved.json()["id"],
        "shipping": [{"store_id": adire.pk, "method_id": express.pk}],
    }
    quote = post_json(customer, "/api/v2/shipping/quote/", basket).json()
    assert (quote["shipping_total"], quote["total"]) == ("6500.00", "42500.00")

    # …orders it and pays the quoted total with Paystack
    with capture(execute=True):
        placed = post_json(customer, "/api/v2/orders/", basket)
        assert placed.status_code == 201, placed.content
        order_id = placed.json()["id"]
        started = post_json(
            customer, f"/api/v2/orders/{order_id}/payments/", {"provider": "paystack"}
        )
    assert started.status_code == 201, started.content
    assert started.json()["amount"] == quote["total"]
    payment_sandbox.pay("paystack", started.json()["reference"])
    [paid] = [w for w in payment_sandbox.sent_webhooks if w["type"] == "charge.success"]
    with capture(execute=True):
        assert deliver_webhook(paid).status_code == 200
    assert customer.get(f"/api/v2/orders/{order_id}/").json()["status"] == "paid"

    # Each vendor packs and ships its parcel with tracking
    mail.outbox.clear()
    for store, carrier, number in ((adire, "DHL", "JD014600"), (kente, "GIG", "GIG-77")):
        vendor = signed_in(store.owner)
        [parcel] = vendor.get("/api/v1/vendor/shipments/?status=awaiting").json()["results"]
        assert parcel["shipping_address"]["city"] == "Lagos"
        assert (
            post_json(
                vendor, "/api/v1/vendor/shipments/", {"line_ids": parcel["line_ids"]}
            ).status_code
            == 201
        )
        with capture(execute=True):
            shipped = post_json(
                vendor,
                f"/api/v1/vendor/shipments/{parcel['id']}/ship/",
                {"carrier": carrier, "tracking_number": number},
            )
        assert shipped.status_code == 200, shipped.content
        time_machine.shift(timedelta(hours=5))

    # The customer (signed in again: hours went by) sees both parcels with their tracking
    # and was told of each
    customer = signed_in(user)
    order = customer.get(f"/api/v2/orders/{order_id}/").json()
    assert order["status"] == "fulfilled"
    tracking = {
        s["store_id"]: (s["carrier"], s["tracking_number"], s["status"]) for s in order["shipments"]
    }
    assert tracking == {
        adire.pk: ("DHL", "JD014600", "shipped"),
        kente.pk: ("GIG", "GIG-77", "shipped"),
    }
    dhl = next(s for s in order["shipments"] if s["store_id"] == adire.pk)
    assert "JD014600" in dhl["tracking_url"]
    assert sorted(m.subject for m in mail.outbox) == sorted(
        f"Your order {order['order_number']} from {store.name} has shipped"
        for store in (adire, kente)
    )

    # The customer confirms the express parcel; the other is delivered after the window
    time_machine.shift(timedelta(days=1))
    customer = signed_in(user)
    with capture(execute=True):
        confirmed = post_json(
            customer, f"/api/v2/orders/{order_id}/shipments/{dhl['id']}/confirm-delivery/"
        )
    assert confirmed.json()["status"] == "fulfilled"
    time_machine.shift(timedelta(days=14))
    with capture(execute=True):
        run_due_jobs()

    done = signed_in(user).get(f"/api/v2/orders/{order_id}/").json()
    assert done["status"] == "delivered"
    assert [s["status"] for s in done["shipments"]] == ["delivered", "delivered"]
    delivered_mail = [m for m in mail.outbox if m.subject.endswith("was delivered")]
    assert len(delivered_mail) == 2 and all(m.to == [user.email] for m in delivered_mail)
