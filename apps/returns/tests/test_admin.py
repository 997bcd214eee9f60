"""Returns in the admin: staff approve escalated requests for the store, and reject them
only with a reason, which the customer is told."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.returns.models import ReturnStatus
from apps.returns.services import return_request_create
from apps.returns.tests.factories import delivered_order, line_of, parcel
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/returns/returnrequest/"


def test_staff_approve_and_reject_returns_for_the_store() -> None:
    store = f.shop()
    shirt = f.variant(store)
    order = delivered_order([(shirt, 2)])
    first, second = (
        return_request_create(
            customer_id=order.customer_id,
            shipment_id=parcel(order, store).pk,
            lines=[{"line_id": line_of(order, shirt), "quantity": 1, "reason": "wrong_item"}],
        )
        for _ in range(2)
    )
    staff = Client()
    staff.force_login(StaffFactory.create(is_staff=True, is_superuser=True))

    staff.post(CHANGELIST, {"action": "approve", "_selected_action": [first.pk]})
    reject = {"action": "reject", "_selected_action": [second.pk]}
    asked = staff.post(CHANGELIST, reject)
    staff.post(CHANGELIST, {**reject, "apply": "1", "reason": "Final sale item"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ReturnStatus.APPROVED
    assert b"reason" in asked.content
    assert (second.status, second.decision_reason) == (ReturnStatus.REJECTED, "Final sale item")
    assert staff.get(f"{CHANGELIST}{first.pk}/change/").status_code == 200
