"""Returns under concurrency on PostgreSQL (threads, each with its own connection,
started together): requests racing for the same units never promise more than was
delivered; an exchange racing a checkout for the last unit never oversells it; two
receipts of one return record one refund."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.common.errors import ApplicationError
from apps.inventory.models import Stock
from apps.orders.models import Order
from apps.orders.services import OrderItem, order_create
from apps.payments.models import Refund
from apps.payments.tests.test_concurrency import _together
from apps.returns.models import ReturnLine, ReturnRequest, ReturnStatus
from apps.returns.services import return_approve, return_receive, return_request_create
from apps.returns.tests.factories import delivered_order, line_of, parcel, two_sizes
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _catching(action: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return action()
        except ApplicationError as error:
            return error

    return run


def test_requests_racing_for_the_same_units_promise_no_more_than_were_delivered() -> None:
    store = f.shop()
    shirt = f.variant(store, stock=20)
    order = delivered_order([(shirt, 3)])
    line = {"line_id": line_of(order, shirt), "quantity": 1, "reason": "changed_mind"}

    def ask() -> Any:
        return return_request_create(
            customer_id=order.customer_id, shipment_id=parcel(order, store).pk, lines=[line]
        )

    results = _together([_catching(ask) for _ in range(6)])

    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 3
    assert all(getattr(r, "code", "") == "validation_failed" for r in results if r not in made)
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 3


def test_an_exchange_racing_a_checkout_for_the_last_unit_never_oversells() -> None:
    store = f.shop()
    medium, large = two_sizes(store, stock=10, large_stock=1)
    order = delivered_order([(medium, 1)])
    shopper = UserFactory.create()

    def exchange() -> Any:
        return return_request_create(
            customer_id=order.customer_id,
            shipment_id=parcel(order, store).pk,
            lines=[
                {
                    "line_id": line_of(order, medium),
                    "quantity": 1,
                    "reason": "changed_mind",
                    "exchange_variant_id": large.pk,
                }
            ],
        )

    def checkout() -> Any:
        return order_create(
            customer_id=shopper.pk, items=[OrderItem(large.pk, 1)], delivery_address="x" * 12
        )

    for _ in range(3):
        results = _together([_catching(exchange), _catching(checkout)])
        stock = Stock.objects.get(variant=large)
        won = [r for r in results if not isinstance(r, BaseException)]
        assert len(won) == 1, results
        assert (stock.on_hand, stock.reserved) == (1, 1)
        # Put the unit back for the next round
        Stock.objects.filter(variant=large).update(reserved=0)
        ReturnRequest.objects.all().delete()
        Order.objects.filter(customer=shopper).delete()


def test_two_receipts_of_one_return_record_one_refund() -> None:
    store = f.shop()
    shirt = f.variant(store, stock=5)
    order = delivered_order([(shirt, 2)])
    made = return_request_create(
        customer_id=order.customer_id,
        shipment_id=parcel(order, store).pk,
        lines=[{"line_id": line_of(order, shirt), "quantity": 2, "reason": "wrong_item"}],
    )
    return_approve(return_id=made.pk, store=store)

    def receive() -> Any:
        return return_receive(
            return_id=made.pk,
            store=store,
            lines=[{"line_id": line_of(order, shirt), "sellable": 2}],
            actor=None,
        )

    results = _together([_catching(receive) for _ in range(4)])

    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert Refund.objects.count() == 1
    assert Stock.objects.get(variant=shirt).on_hand == 5 - 2 + 2
    made.refresh_from_db()
    assert made.status in {ReturnStatus.RECEIVED, ReturnStatus.CLOSED}
