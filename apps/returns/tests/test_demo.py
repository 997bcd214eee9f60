"""The demo returns: some delivered parcels come back, each asked within the window after
its delivery, closed ones refunded at the price paid; seeding again adds none."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.returns.models import ReturnRequest, ReturnStatus

pytestmark = pytest.mark.django_db


def test_demo_returns_are_consistent_and_created_once() -> None:
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())
    count = ReturnRequest.objects.count()
    call_command("seed_demo", "--small", "--no-progress", stdout=io.StringIO())

    assert count > 0 and ReturnRequest.objects.count() == count
    window = timedelta(days=int(settings.RETURN_WINDOW_DAYS))
    for request in ReturnRequest.objects.select_related("shipment").prefetch_related("lines"):
        delivered = request.shipment.delivered_at
        assert delivered is not None and delivered <= request.created_at <= delivered + window
        [line] = request.lines.all()
        assert line.order_line.order_id == request.order_id
        if request.status == ReturnStatus.CLOSED:
            assert request.refund_amount == line.order_line.unit_price == line.refund_amount
