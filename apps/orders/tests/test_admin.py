"""The orders admin: the list loads and filters by status, an order's page shows its lines
and the stock movements it caused, and the actions go through the lifecycle services —
cancelling releases stock and skips (with a warning) orders that are already paid,
marking delivered moves a fulfilled order on."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import messages
from django.test import Client

from apps.authentication.models import User
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderStatus
from apps.orders.services import order_line_fulfil, order_mark_paid
from apps.orders.tests.factories import make_variant, place_order
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def staff() -> User:
    return StaffFactory.create(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client: Client, staff: User) -> Client:
    client.force_login(staff)
    return client


def _messages(response: Any) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in response.context["messages"]]


def test_the_changelist_loads_and_filters_by_status(admin_client: Client) -> None:
    pending = place_order()
    paid = place_order()
    order_mark_paid(order_id=paid.pk)

    everything = admin_client.get(CHANGELIST)
    only_paid = admin_client.get(CHANGELIST, {"status__exact": "paid"})

    assert everything.status_code == 200
    assert pending.order_number in everything.text and paid.order_number in everything.text
    assert only_paid.status_code == 200
    assert paid.order_number in only_paid.text
    assert pending.order_number not in only_paid.text


def test_the_order_page_shows_lines_and_stock_movements(admin_client: Client) -> None:
    variant = make_variant(stock=10)
    order = place_order(items=[(variant, 3)])
    order_mark_paid(order_id=order.pk)

    page = admin_client.get(f"{CHANGELIST}{order.pk}/change/")

    assert page.status_code == 200
    assert order.order_number in page.text
    assert "Linen shirt" in page.text
    assert f"{variant.sku} · Reserved for an order · on hand +0, reserved +3" in page.text
    assert f"{variant.sku} · Sold (reservation fulfilled) · on hand -3, reserved -3" in page.text


def test_cancel_action_cancels_unpaid_orders_and_skips_paid_ones(
    admin_client: Client, staff: User
) -> None:
    variant = make_variant(stock=10)
    pending = place_order(items=[(variant, 2)])
    paid = place_order(items=[(variant, 3)])
    order_mark_paid(order_id=paid.pk)

    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_unpaid", "_selected_action": [pending.pk, paid.pk]},
        follow=True,
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    paid.refresh_from_db()
    assert (pending.status, pending.cancel_reason) == (OrderStatus.CANCELLED, "staff")
    assert paid.status == OrderStatus.PAID
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.reserved) == (7, 0)
    released = StockMovement.objects.get(order_id=pending.pk, reason="released")
    assert (released.reserved_delta, released.actor) == (-2, staff)
    assert not StockMovement.objects.filter(order_id=paid.pk, reason="released").exists()
    assert _messages(response) == [
        (messages.WARNING, f"{paid.order_number}: An order that is paid cannot become cancelled."),
        (messages.SUCCESS, "1 order(s) updated."),
    ]


def test_mark_delivered_action_moves_a_fulfilled_order_on(admin_client: Client) -> None:
    order = place_order()
    order_mark_paid(order_id=order.pk)
    for line in order.lines.all():
        order_line_fulfil(line_id=line.pk, store=None)

    response = admin_client.post(
        CHANGELIST, {"action": "mark_delivered", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and order.delivered_at is not None
    assert _messages(response) == [(messages.SUCCESS, "1 order(s) updated.")]


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client: Client) -> None:
    order = place_order()

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{order.pk}/delete/").status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
