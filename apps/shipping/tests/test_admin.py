"""Shipping in the admin: staff correct a shipment's status only with a reason, which
goes into its history with their name; methods are validated like the vendor API's."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.orders.models import OrderStatus
from apps.shipping.models import ShipmentChange, ShippingMethod
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/shipping/shipment/"


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    return client


def test_a_correction_asks_for_a_reason_then_applies_it(staff_client: Client) -> None:
    store = f.shop()
    order = f.paid_order([(f.variant(store), 1)])
    shipment = f.shipment_of(order, store)
    action = {"action": "correct_status", "_selected_action": [shipment.pk]}

    asked = staff_client.post(CHANGELIST, action)
    refused = staff_client.post(CHANGELIST, {**action, "apply": "1", "status": "shipped"})
    done = staff_client.post(
        CHANGELIST,
        {**action, "apply": "1", "status": "shipped", "reason": "Vendor shipped by phone"},
        follow=True,
    )

    assert asked.status_code == refused.status_code == 200
    assert b"reason" in asked.content
    assert done.status_code == 200
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == "shipped" and order.status == OrderStatus.FULFILLED
    change = ShipmentChange.objects.get(shipment=shipment)
    assert (change.source, change.reason) == ("staff", "Vendor shipped by phone")
    assert staff_client.get(f"{CHANGELIST}{shipment.pk}/change/").status_code == 200


def test_a_method_with_bad_days_is_refused_in_the_admin(staff_client: Client) -> None:
    response = staff_client.post(
        "/admin/shipping/shippingmethod/add/",
        {
            "name": "Slow",
            "price": "100.00",
            "currency": "NGN",
            "min_days": "9",
            "max_days": "2",
            "countries": '["NG"]',
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert b"Must not be below min_days" in response.content
    assert not ShippingMethod.objects.exists()
