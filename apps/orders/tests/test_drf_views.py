"""v1 vendor order lines: a vendor sees and fulfils only their own store's lines (another
store's line is 404, never a hint), staff reach every line, filters and pagination
behave, bad filters answer 422 naming the field, fulfilment moves the order to
fulfilled only when every vendor has shipped, and the listing's query count does not
grow with the number of lines."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from time_machine import TimeMachineFixture

from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.services import order_line_fulfil, order_mark_paid
from apps.orders.tests.factories import make_variant, place_order
from apps.vendors.models import Store
from apps.vendors.tests.factories import StaffFactory, StoreFactory, UserFactory, VendorFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/vendor/order-lines/"


def _client(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _fulfil_url(line_id: int) -> str:
    return f"{URL}{line_id}/fulfil/"


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [line["id"] for line in response.json()["results"]]


def _fields(response: Any) -> set[str]:
    assert response["Content-Type"] == "application/problem+json", response.content
    return {error["field"] for error in response.json()["errors"]}


def _shared_order(*, paid: bool = True) -> tuple[Order, OrderLine, OrderLine]:
    """One order with a line from store A and a line from store B."""
    order = place_order(items=[(make_variant(), 1), (make_variant(), 2)])
    if paid:
        order_mark_paid(order_id=order.pk)
    line_a, line_b = order.lines.order_by("id")
    assert line_a.store_id != line_b.store_id
    return order, line_a, line_b


def _line_state(line: OrderLine) -> tuple[Any, str]:
    line.refresh_from_db()
    return line.fulfilled_at, Order.objects.get(pk=line.order_id).status


# --- who sees what ----------------------------------------------------------------------


def test_a_vendor_sees_only_their_stores_lines() -> None:
    store_a, store_b = StoreFactory.create(), StoreFactory.create()
    dress, shoes = make_variant(store=store_a), make_variant(store=store_b)
    order = place_order(items=[(dress, 1), (shoes, 2)])
    order_mark_paid(order_id=order.pk)
    line_a, line_b = order.lines.order_by("id")
    only_b = place_order(items=[(shoes, 1)]).lines.get()

    response = _client(store_a.owner).get(URL)

    assert _ids(response) == [line_a.pk]
    body = response.json()
    assert body["count"] == 1
    line = body["results"][0]
    assert line["order_id"] == order.pk and line["order_number"] == order.order_number
    assert line["order_status"] == "paid" and line["store_id"] == store_a.pk
    assert (line["sku"], line["quantity"], line["currency"]) == (dress.sku, 1, "NGN")
    assert line["line_total"] == "5000.00" and line["fulfilled_at"] is None
    assert _ids(_client(store_b.owner).get(URL)) == [only_b.pk, line_b.pk]


def test_staff_see_every_stores_lines() -> None:
    _, line_a, line_b = _shared_order()

    assert sorted(_ids(_client(StaffFactory.create()).get(URL))) == [line_a.pk, line_b.pk]


@pytest.mark.parametrize(
    ("user_kind", "status"),
    [("anonymous", 401), ("customer", 403), ("vendor_without_store", 403)],
)
def test_only_vendors_with_a_store_and_staff_may_list(user_kind: str, status: int) -> None:
    _shared_order()
    user = None
    if user_kind == "customer":
        user = UserFactory.create()
    elif user_kind == "vendor_without_store":
        user = VendorFactory.create()

    response = _client(user).get(URL)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


# --- filters ----------------------------------------------------------------------------


def test_filters_by_the_orders_status_and_by_fulfilment() -> None:
    store = StoreFactory.create()
    variant = make_variant(store=store, stock=20)
    pending = place_order(items=[(variant, 1)])
    paid = place_order(items=[(variant, 1)])
    order_mark_paid(order_id=paid.pk)
    shipped = place_order(items=[(variant, 1)])
    order_mark_paid(order_id=shipped.pk)
    pending_line, paid_line, shipped_line = (o.lines.get().pk for o in (pending, paid, shipped))
    order_line_fulfil(line_id=shipped_line, store=store)
    client = _client(store.owner)

    def ids(**params: str) -> list[int]:
        return _ids(client.get(URL, params))

    assert ids() == [shipped_line, paid_line, pending_line]
    assert ids(status="pending_payment") == [pending_line]
    assert ids(status="paid") == [paid_line]
    assert ids(status="fulfilled") == [shipped_line]
    assert ids(status="cancelled") == []
    assert ids(fulfilled="true") == [shipped_line]
    assert ids(fulfilled="false") == [paid_line, pending_line]
    assert ids(status="paid", fulfilled="false") == [paid_line]


def test_filters_by_the_order_date_inclusively(time_machine: TimeMachineFixture) -> None:
    store = StoreFactory.create()
    variant = make_variant(store=store, stock=20)
    placed: dict[str, int] = {}
    for moment in (
        "2026-03-01 23:59:59Z",
        "2026-03-02 00:00:00Z",
        "2026-03-02 23:59:59Z",
        "2026-03-03 00:00:00Z",
    ):
        time_machine.move_to(parse_datetime(moment), tick=False)
        placed[moment] = place_order(items=[(variant, 1)]).lines.get().pk
    first_day, second_day_start, second_day_end, third_day = placed.values()
    client = _client(store.owner)

    def ids(**params: str) -> list[int]:
        return _ids(client.get(URL, params))

    assert ids(created_from="2026-03-02", created_to="2026-03-02") == [
        second_day_end,
        second_day_start,
    ]
    assert ids(created_from="2026-03-02") == [third_day, second_day_end, second_day_start]
    assert ids(created_to="2026-03-02") == [second_day_end, second_day_start, first_day]
    assert ids(created_from="2026-03-04") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "shipped"}, "status"),
        ({"created_from": "not-a-date"}, "created_from"),
        ({"created_to": "2026-02-30"}, "created_to"),
        ({"created_from": "2026-03-02", "created_to": "2026-03-01"}, "created_to"),
        ({"fulfilled": "maybe"}, "fulfilled"),
    ],
)
def test_bad_filters_are_422_naming_the_field(params: dict[str, str], field: str) -> None:
    store = StoreFactory.create()

    response = _client(store.owner).get(URL, params)

    assert response.status_code == 422
    assert _fields(response) == {field}


def test_pages_by_limit_and_offset() -> None:
    store = StoreFactory.create()
    variant = make_variant(store=store, stock=20)
    lines = [place_order(items=[(variant, 1)]).lines.get().pk for _ in range(5)]
    client = _client(store.owner)

    first = client.get(URL, {"limit": 2}).json()
    middle = client.get(URL, {"limit": 2, "offset": 2}).json()
    last = client.get(URL, {"limit": 2, "offset": 4}).json()

    assert [page["count"] for page in (first, middle, last)] == [5, 5, 5]
    pages = [[line["id"] for line in page["results"]] for page in (first, middle, last)]
    assert pages == [lines[4:2:-1], lines[2:0:-1], lines[:1]]
    assert "offset=2" in first["next"] and "limit=2" in first["next"]
    assert first["previous"] is None and "offset=4" in middle["next"]
    assert last["next"] is None


# --- fulfilment -------------------------------------------------------------------------


def test_vendors_fulfil_their_lines_and_the_last_one_fulfils_the_order() -> None:
    order, line_a, line_b = _shared_order()

    first = _client(line_a.store.owner).post(_fulfil_url(line_a.pk))

    assert first.status_code == 200, first.content
    assert first.json()["id"] == line_a.pk and first.json()["fulfilled_at"]
    # One store of two has sent its parcel.
    assert first.json()["order_status"] == "partly_shipped"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTLY_SHIPPED

    last = _client(line_b.store.owner).post(_fulfil_url(line_b.pk))

    assert last.status_code == 200
    assert last.json()["order_status"] == "fulfilled"
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and order.fulfilled_at is not None


def test_a_vendor_cannot_fulfil_another_stores_line() -> None:
    _, line_a, line_b = _shared_order()
    before = _line_state(line_a)

    response = _client(line_b.store.owner).post(_fulfil_url(line_a.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "order_line_not_found"
    assert _line_state(line_a) == before == (None, OrderStatus.PAID)


def test_a_line_of_an_unpaid_order_cannot_be_fulfilled() -> None:
    _, line_a, _ = _shared_order(paid=False)

    response = _client(line_a.store.owner).post(_fulfil_url(line_a.pk))

    assert response.status_code == 409
    assert response.json()["code"] == "order_not_paid"
    assert _line_state(line_a) == (None, OrderStatus.PENDING_PAYMENT)


def test_a_line_cannot_be_fulfilled_twice() -> None:
    _, line_a, _ = _shared_order()
    client = _client(line_a.store.owner)
    fulfilled_at = client.post(_fulfil_url(line_a.pk)).json()["fulfilled_at"]

    again = client.post(_fulfil_url(line_a.pk))

    assert again.status_code == 409
    assert again.json()["code"] == "line_already_fulfilled"
    line_a.refresh_from_db()
    assert line_a.fulfilled_at == parse_datetime(fulfilled_at)


def test_fulfilling_a_line_of_a_fulfilled_order_again_says_the_line_is_done() -> None:
    order, line_a, line_b = _shared_order()
    assert _client(line_a.store.owner).post(_fulfil_url(line_a.pk)).status_code == 200
    assert _client(line_b.store.owner).post(_fulfil_url(line_b.pk)).status_code == 200

    again = _client(line_b.store.owner).post(_fulfil_url(line_b.pk))

    assert again.status_code == 409
    assert again.json()["code"] == "line_already_fulfilled"
    assert again.json()["detail"] == "This line is already fulfilled."
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED


def test_an_unknown_line_is_404() -> None:
    store = StoreFactory.create()

    assert _client(store.owner).post(_fulfil_url(999_999)).status_code == 404
    assert _client(StaffFactory.create()).post(_fulfil_url(999_999)).status_code == 404


def test_staff_fulfil_any_line() -> None:
    order, line_a, line_b = _shared_order()
    staff = _client(StaffFactory.create())

    assert staff.post(_fulfil_url(line_a.pk)).status_code == 200
    assert staff.post(_fulfil_url(line_b.pk)).status_code == 200

    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED


def test_customers_cannot_fulfil() -> None:
    order, line_a, _ = _shared_order()

    response = _client(order.customer).post(_fulfil_url(line_a.pk))

    assert response.status_code == 403
    assert _line_state(line_a) == (None, OrderStatus.PAID)


# --- query count ------------------------------------------------------------------------


def _place_lines(store: Store, count: int) -> None:
    variant = make_variant(store=store, stock=100)
    for _ in range(count):
        place_order(items=[(variant, 1)])


def _listing_queries(client: APIClient) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    return len(_ids(response)), len(queries)


def test_listing_costs_the_same_queries_for_5_or_25_lines() -> None:
    store = StoreFactory.create()
    client = _client(store.owner)
    _place_lines(store, 5)
    few, few_queries = _listing_queries(client)

    _place_lines(store, 20)
    many, many_queries = _listing_queries(client)

    assert (few, many) == (5, 25)
    assert few_queries == many_queries
