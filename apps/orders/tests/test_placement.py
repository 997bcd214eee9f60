"""Placing and quoting an order at the service level (``apps.orders.services.placement``).

Proven here, with exact values: totals are the catalogue prices plus each store's
shipping (the customer's method or the cheapest, free above a store subtotal); every
limit of the request is enforced at its boundary (lines, quantities, notes, shipping
choices, idempotency keys); a key replays the same request for 24 hours and refuses a
changed one; refused orders (unavailable variants, mixed currencies, short stock, a
destination a store does not serve) name the offending fields and write nothing; lines
keep a snapshot of the product and of the commission; a quote prices exactly like an
order and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError
from time_machine import TimeMachineFixture

from apps.addresses.tests.factories import LAGOS, make_address
from apps.authentication.models import User
from apps.catalog.models import Product, Variant
from apps.common.errors import Conflict, ValidationFailed
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import IdempotencyKey, Order, OrderLine, OrderStatus
from apps.orders.services import OrderItem, order_create, order_quote, placement
from apps.orders.tests.factories import ADDRESS, make_variant, place_order
from apps.shipping.models import Shipment
from apps.shipping.tests.factories import method, shop
from apps.vendors.models import Store, StoreStatus
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
HOLD = timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))
KEY = "Idempotency-Key"
NUMBER = re.compile(r"^FS-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
LONDON: dict[str, str] = {
    "recipient_name": "Sophie Taylor",
    "phone": "+44 20 7946 0958",
    "line1": "221 Old Kent Road",
    "city": "London",
    "postal_code": "SE1 5AA",
    "country": "GB",
}


# --- helpers ----------------------------------------------------------------------------


_store = shop
_method = method


def _customer() -> User:
    customer: User = UserFactory.create()
    return customer


def _create(customer: User, items: list[tuple[Variant, int]], **fields: Any) -> tuple[Order, bool]:
    if "shipping_address" not in fields and "address_id" not in fields:
        fields.setdefault("delivery_address", ADDRESS)
    return order_create(
        customer_id=customer.pk,
        items=[OrderItem(variant.pk, quantity) for variant, quantity in items],
        **fields,
    )


def _errors(error: ValidationFailed | Conflict) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in error.field_errors]


def _reserved(variant: Variant) -> int:
    return Stock.objects.get(variant=variant).reserved


# --- what an order costs and what it writes ---------------------------------------------


def test_an_order_costs_its_lines_plus_each_stores_cheapest_shipping() -> None:
    shop_a, shop_b = _store(), _store()
    cheap = _method(shop_a, "1500.00", name="Courier", days=(1, 3))
    _method(shop_a, "3000.00", name="Express", days=(0, 1))
    other = _method(shop_b, "2000.00", name="Post", days=(2, 5))
    shirt = make_variant(store=shop_a, price="5000.00", stock=10)
    cap = make_variant(store=shop_b, price="7000.00", stock=10)

    order, created = _create(_customer(), [(shirt, 2), (cap, 1)])

    assert created is True
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.currency == "NGN"
    assert order.total_amount == Decimal("20500.00")
    assert order.shipping_amount == Decimal("3500.00")
    assert order.delivery_address == ADDRESS
    assert order.shipping_address == {}
    assert order.customer_notes == ""
    assert list(
        Shipment.objects.filter(order=order)
        .order_by("store_id")
        .values_list(
            "store_id", "method_id", "method_name", "shipping_amount", "min_days", "max_days"
        )
    ) == [
        (shop_a.pk, cheap.pk, "Courier", Decimal("1500.00"), 1, 3),
        (shop_b.pk, other.pk, "Post", Decimal("2000.00"), 2, 5),
    ]


def test_each_line_keeps_a_snapshot_of_what_was_bought() -> None:
    shirt = make_variant(price="5000.00", stock=10)

    order, _ = _create(_customer(), [(shirt, 3)])

    line = OrderLine.objects.get(order=order)
    assert (
        line.variant_id,
        line.store_id,
        line.product_name,
        line.sku,
        line.size,
        line.colour,
        line.unit_price,
        line.quantity,
        line.line_total,
    ) == (
        shirt.pk,
        shirt.product.store_id,
        shirt.product.name,
        shirt.sku,
        shirt.size,
        "Black",
        Decimal("5000.00"),
        3,
        Decimal("15000.00"),
    )


def test_the_stock_is_reserved_for_the_order_in_the_ledger() -> None:
    shirt = make_variant(stock=10)

    order, _ = _create(_customer(), [(shirt, 4)])

    assert _reserved(shirt) == 4
    assert list(
        StockMovement.objects.filter(variant=shirt, reserved_delta__gt=0).values_list(
            "order_id", "reserved_delta"
        )
    ) == [(order.pk, 4)]


def test_each_line_snapshots_the_commission_split_to_the_kobo() -> None:
    store = _store()
    first = make_variant(store=store, price="3333.33")
    second = make_variant(store=store, price="3333.34")

    order, _ = _create(_customer(), [(first, 1), (second, 1)])

    assert list(order.lines.order_by("id").values_list("commission_rate", "commission_amount")) == [
        (Decimal("10.00"), Decimal("333.33")),
        (Decimal("10.00"), Decimal("333.34")),
    ]


def test_the_customers_chosen_method_is_charged_instead_of_the_cheapest() -> None:
    store = _store()
    _method(store, "1500.00")
    express = _method(store, "3000.00", name="Express", days=(0, 1))
    shirt = make_variant(store=store, price="5000.00")

    order, _ = _create(_customer(), [(shirt, 1)], shipping=[(store.pk, express.pk)])

    assert order.shipping_amount == Decimal("3000.00")
    assert order.total_amount == Decimal("8000.00")
    shipment = Shipment.objects.get(order=order)
    assert (shipment.method_id, shipment.method_name, shipment.min_days, shipment.max_days) == (
        express.pk,
        "Express",
        0,
        1,
    )


def test_a_store_ships_free_when_its_lines_together_pass_the_threshold() -> None:
    store = _store()
    _method(store, "1500.00", free_above="10000.00")
    shirt = make_variant(store=store, price="6000.00")
    cap = make_variant(store=store, price="6000.00")

    order, _ = _create(_customer(), [(shirt, 1), (cap, 1)])

    assert order.shipping_amount == Decimal("0.00")
    assert order.total_amount == Decimal("12000.00")


def test_the_order_number_reads_fs_and_two_groups_of_four_crockford_characters() -> None:
    numbers = {place_order().order_number for _ in range(3)}

    assert len(numbers) == 3
    assert all(NUMBER.match(number) for number in numbers), numbers


def test_the_stock_is_held_for_the_reservation_window(time_machine: TimeMachineFixture) -> None:
    time_machine.move_to(T0, tick=False)

    order = place_order()

    assert order.reserved_until == T0 + HOLD


def test_an_order_number_drawn_twice_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = place_order().order_number
    draws = iter([taken, taken, "FS-ABCD-EFGH"])
    monkeypatch.setattr(placement, "_order_number", lambda: next(draws))

    order = place_order()

    assert order.order_number == "FS-ABCD-EFGH"


def test_placing_gives_up_after_five_colliding_order_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = place_order().order_number
    calls: list[str] = []

    def draw() -> str:
        calls.append(taken)
        return taken

    monkeypatch.setattr(placement, "_order_number", draw)
    shirt = make_variant(stock=5)

    with pytest.raises(IntegrityError):
        _create(_customer(), [(shirt, 1)])

    assert len(calls) == 5
    assert _reserved(shirt) == 0


# --- the limits of a request ------------------------------------------------------------


def test_an_order_of_100_lines_passes_the_length_check() -> None:
    # 100 lines of a variant that does not exist: refused on the variant, not the length.
    with pytest.raises(ValidationFailed) as refused:
        order_create(
            customer_id=_customer().pk, items=[OrderItem(0, 1)] * 100, delivery_address=ADDRESS
        )

    assert refused.value.code == "variant_unavailable"
    assert len(refused.value.field_errors) == 100


@pytest.mark.parametrize("lines", [0, 101])
def test_an_order_of_0_or_101_lines_is_refused_on_items(lines: int) -> None:
    shirt = make_variant(stock=200)

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(shirt, 1)] * lines)

    assert refused.value.message == "Between 1 and 100 lines."
    assert _errors(refused.value) == [("items", "length")]
    assert Order.objects.count() == 0


def test_a_line_of_1000_units_is_accepted() -> None:
    shirt = make_variant(stock=1000)

    order, _ = _create(_customer(), [(shirt, 1000)])

    assert order.total_amount == Decimal("5000000.00")


@pytest.mark.parametrize("quantity", [0, 1001])
def test_a_line_of_0_or_1001_units_is_refused_on_its_quantity(quantity: int) -> None:
    shirt = make_variant(stock=2000)
    cap = make_variant(stock=5)

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(cap, 1), (shirt, quantity)])

    assert refused.value.message == "Between 1 and 1000."
    assert _errors(refused.value) == [("items.1.quantity", "out_of_range")]


def test_every_invalid_field_is_named_and_the_message_is_the_first_ones() -> None:
    shirt = make_variant()

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(shirt, 0), (shirt, 1001)], customer_notes="x" * 1001)

    assert refused.value.message == "Between 1 and 1000."
    assert _errors(refused.value) == [
        ("items.0.quantity", "out_of_range"),
        ("items.1.quantity", "out_of_range"),
        ("customer_notes", "max_length"),
    ]


def test_notes_of_1000_characters_are_kept_without_the_surrounding_spaces() -> None:
    notes = "n" * 1000

    order, _ = _create(_customer(), [(make_variant(), 1)], customer_notes=f"  {notes}\n ")

    assert order.customer_notes == notes


def test_notes_of_1001_characters_are_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(make_variant(), 1)], customer_notes=" " + "n" * 1001 + " ")

    assert refused.value.message == "At most 1000 characters."
    assert _errors(refused.value) == [("customer_notes", "max_length")]


def test_choices_for_101_stores_are_refused_before_anything_is_read() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order_create(
            customer_id=_customer().pk,
            items=[OrderItem(1, 1)],
            delivery_address=ADDRESS,
            shipping=[(n, 1) for n in range(101)],
        )

    assert _errors(refused.value) == [("shipping", "length")]


def test_choices_for_100_stores_pass_the_length_check() -> None:
    store = _store()
    method = _method(store, "1500.00")
    shirt = make_variant(store=store)

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(shirt, 1)], shipping=[(store.pk, method.pk)] * 100)

    # Only the repeated choices are wrong: the first one picked the store's method.
    assert _errors(refused.value) == [
        (f"shipping.{n}.store_id", "duplicate") for n in range(1, 100)
    ]


@pytest.mark.parametrize("key", ["k", "k" * 255])
def test_an_idempotency_key_of_1_to_255_characters_is_accepted(key: str) -> None:
    order, created = _create(_customer(), [(make_variant(), 1)], idempotency_key=key)

    assert created is True
    assert IdempotencyKey.objects.get(key=key).order_id == order.pk


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_empty_or_256_character_idempotency_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(make_variant(), 1)], idempotency_key=key)

    assert refused.value.message == "1 to 255 characters."
    assert _errors(refused.value) == [(KEY, "length")]
    assert Order.objects.count() == 0


# --- idempotency ------------------------------------------------------------------------


def test_repeating_a_request_with_its_key_returns_the_first_order(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    customer = _customer()
    shirt = make_variant(stock=10)

    first, created = _create(
        customer, [(shirt, 2)], customer_notes="Ring twice", idempotency_key="abc"
    )
    again, created_again = _create(
        customer, [(shirt, 2)], customer_notes="  Ring twice ", idempotency_key="abc"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert _reserved(shirt) == 2
    assert IdempotencyKey.objects.get(key="abc").expires_at == T0 + timedelta(hours=24)


@pytest.fixture
def keyed_order() -> Iterator[dict[str, Any]]:
    customer = _customer()
    store = _store()
    courier = _method(store, "1500.00")
    express = _method(store, "3000.00")
    shirt = make_variant(store=store, stock=10)
    cap = make_variant(store=store, stock=10)
    request: dict[str, Any] = {
        "items": [(shirt, 1), (cap, 1)],
        "delivery_address": ADDRESS,
        "shipping": [(store.pk, courier.pk)],
        "customer_notes": "Ring twice",
    }
    _create(customer, idempotency_key="abc", **request)
    yield {
        "customer": customer,
        "request": request,
        "changes": {
            "items": [(shirt, 1), (make_variant(store=store), 1)],
            "quantities": [(shirt, 2), (cap, 1)],
            "delivery_address": ADDRESS + ", Nigeria",
            "shipping": [(store.pk, express.pk)],
            "customer_notes": "Leave at the gate",
        },
    }


@pytest.mark.parametrize(
    "change", ["items", "quantities", "delivery_address", "shipping", "customer_notes"]
)
def test_a_key_reused_for_a_changed_request_is_refused(
    keyed_order: dict[str, Any], change: str
) -> None:
    request = dict(keyed_order["request"])
    request["items" if change == "quantities" else change] = keyed_order["changes"][change]

    with pytest.raises(ValidationFailed) as refused:
        _create(keyed_order["customer"], idempotency_key="abc", **request)

    assert _errors(refused.value) == [(KEY, "idempotency_key_reused")]
    assert Order.objects.count() == 1


def test_a_key_reused_with_another_address_from_the_book_is_refused() -> None:
    customer = _customer()
    home = make_address(customer=customer)
    office = make_address(customer=customer, line1="3 Broad Street")
    shirt = make_variant()
    _create(customer, [(shirt, 1)], address_id=home.pk, idempotency_key="abc")

    with pytest.raises(ValidationFailed) as refused:
        _create(customer, [(shirt, 1)], address_id=office.pk, idempotency_key="abc")

    assert _errors(refused.value) == [(KEY, "idempotency_key_reused")]


def test_a_key_replays_until_24_hours_then_places_a_new_order(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    customer = _customer()
    shirt = make_variant(stock=10)
    first, _ = _create(customer, [(shirt, 1)], idempotency_key="abc")

    time_machine.move_to(T0 + timedelta(hours=24) - timedelta(seconds=1), tick=False)
    replayed, created = _create(customer, [(shirt, 1)], idempotency_key="abc")
    assert (replayed.pk, created) == (first.pk, False)

    time_machine.move_to(T0 + timedelta(hours=24), tick=False)
    fresh, created = _create(customer, [(shirt, 1)], idempotency_key="abc")
    assert created is True
    assert fresh.pk != first.pk
    assert _reserved(shirt) == 2


def test_an_expired_key_is_cleared_only_for_that_customer_and_key(
    time_machine: TimeMachineFixture,
) -> None:
    time_machine.move_to(T0, tick=False)
    ada, ben = _customer(), _customer()
    shirt = make_variant(stock=10)
    _create(ada, [(shirt, 1)], idempotency_key="abc")
    _create(ada, [(shirt, 1)], idempotency_key="other")
    _create(ben, [(shirt, 1)], idempotency_key="abc")

    time_machine.move_to(T0 + timedelta(hours=25), tick=False)
    _create(ada, [(shirt, 1)], idempotency_key="abc")

    assert sorted(IdempotencyKey.objects.values_list("customer_id", "key", "expires_at")) == sorted(
        [
            (ada.pk, "abc", T0 + timedelta(hours=49)),
            (ada.pk, "other", T0 + timedelta(hours=24)),
            (ben.pk, "abc", T0 + timedelta(hours=24)),
        ]
    )


def test_two_customers_using_the_same_key_each_get_their_own_order() -> None:
    ada, ben = _customer(), _customer()
    shirt = make_variant(stock=10)
    ada_order, _ = _create(ada, [(shirt, 1)], idempotency_key="abc")
    ben_order, _ = _create(ben, [(shirt, 1)], idempotency_key="abc")

    replayed, created = _create(ben, [(shirt, 1)], idempotency_key="abc")

    assert ada_order.pk != ben_order.pk
    assert (replayed.pk, created) == (ben_order.pk, False)


# --- what cannot be sold ----------------------------------------------------------------


def test_variants_not_for_sale_are_named_by_line_and_nothing_is_reserved() -> None:
    good = make_variant(stock=5)
    inactive = make_variant()
    Variant.objects.filter(pk=inactive.pk).update(is_active=False)
    hidden = make_variant()
    Product.objects.filter(pk=hidden.product_id).update(is_active=False)
    pending = make_variant()
    Store.objects.filter(pk=pending.product.store_id).update(status=StoreStatus.PENDING)
    ghost = Variant.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    with pytest.raises(ValidationFailed) as refused:
        order_create(
            customer_id=_customer().pk,
            items=[
                OrderItem(good.pk, 1),
                OrderItem(pending.pk, 1),
                OrderItem(inactive.pk, 1),
                OrderItem(ghost, 1),
                OrderItem(hidden.pk, 1),
            ],
            delivery_address=ADDRESS,
        )

    assert refused.value.code == "variant_unavailable"
    assert refused.value.message == "Some items are not for sale."
    assert _errors(refused.value) == [
        (f"items.{n}.variant_id", "unavailable") for n in (1, 2, 3, 4)
    ]
    assert refused.value.details == {
        "variant_ids": sorted([inactive.pk, hidden.pk, pending.pk, ghost])
    }
    assert _reserved(good) == 0
    assert Order.objects.count() == 0


def test_items_priced_in_two_currencies_are_refused_on_items() -> None:
    naira = make_variant()
    dollars = make_variant()
    Variant.objects.filter(pk=dollars.pk).update(currency="USD")

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(naira, 1), (dollars, 1)])

    assert refused.value.message == "Items are priced in different currencies."
    assert _errors(refused.value) == [("items", "invalid")]


def test_other_currencies_in_the_catalogue_do_not_affect_an_order() -> None:
    dollars = make_variant()
    Variant.objects.filter(pk=dollars.pk).update(currency="USD")
    naira = make_variant(price="5000.00")

    order, _ = _create(_customer(), [(naira, 1)])

    assert order.currency == "NGN"
    assert order.lines.get().variant_id == naira.pk


def test_short_stock_names_every_line_of_the_variant_with_the_summed_request() -> None:
    short = make_variant(stock=5)
    plenty = make_variant(stock=10)
    place_order(items=[(short, 3)])

    with pytest.raises(Conflict) as refused:
        _create(_customer(), [(short, 1), (plenty, 1), (short, 2)])

    assert refused.value.code == "insufficient_stock"
    assert refused.value.message == "Not enough stock for some lines."
    assert refused.value.details == {
        "lines": [
            {"index": 0, "variant_id": short.pk, "requested": 3, "available": 2},
            {"index": 2, "variant_id": short.pk, "requested": 3, "available": 2},
        ]
    }
    assert _errors(refused.value) == [
        ("items.0.quantity", "insufficient_stock"),
        ("items.2.quantity", "insufficient_stock"),
    ]
    assert (_reserved(short), _reserved(plenty)) == (3, 0)
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.count() == 0


def test_a_variant_reserved_in_full_has_none_available() -> None:
    shirt = make_variant(stock=5)
    place_order(items=[(shirt, 5)])

    with pytest.raises(Conflict) as refused:
        _create(_customer(), [(shirt, 1)])

    assert refused.value.details == {
        "lines": [{"index": 0, "variant_id": shirt.pk, "requested": 1, "available": 0}]
    }


def test_a_variant_without_a_stock_row_has_none_available() -> None:
    shirt = make_variant(stock=5)
    Stock.objects.filter(variant=shirt).delete()

    with pytest.raises(Conflict) as refused:
        _create(_customer(), [(shirt, 2)])

    assert refused.value.details == {
        "lines": [{"index": 0, "variant_id": shirt.pk, "requested": 2, "available": 0}]
    }


# --- where the order goes ---------------------------------------------------------------


def test_an_order_to_an_address_from_the_book_keeps_a_copy_of_it() -> None:
    customer = _customer()
    address = make_address(customer=customer)

    order, _ = _create(customer, [(make_variant(), 1)], address_id=address.pk)

    assert order.shipping_address["line1"] == "12 Admiralty Way"
    assert order.shipping_address["country"] == "NG"
    assert "12 Admiralty Way" in order.delivery_address


def test_an_address_of_another_customers_book_is_refused() -> None:
    address = make_address()

    with pytest.raises(ValidationFailed) as refused:
        _create(_customer(), [(make_variant(), 1)], address_id=address.pk)

    assert _errors(refused.value) == [("address_id", "not_found")]


def test_an_address_id_with_a_delivery_address_is_a_conflict() -> None:
    customer = _customer()
    address = make_address(customer=customer)

    with pytest.raises(ValidationFailed) as refused:
        _create(customer, [(make_variant(), 1)], address_id=address.pk, delivery_address=ADDRESS)

    assert _errors(refused.value) == [("delivery_address", "conflict")]


def test_an_order_abroad_is_charged_the_method_serving_that_country() -> None:
    store = _store()
    _method(store, "1000.00", countries=["NG"])
    abroad = _method(store, "9000.00", countries=["GB"])

    order, _ = _create(_customer(), [(make_variant(store=store), 1)], shipping_address=LONDON)

    assert order.shipping_address["country"] == "GB"
    assert order.shipping_amount == Decimal("9000.00")
    assert Shipment.objects.get(order=order).method_id == abroad.pk


@pytest.mark.parametrize(
    ("destination", "field"),
    [
        ("address_id", "address_id"),
        ("shipping_address", "shipping_address.country"),
        ("delivery_address", "delivery_address"),
        ("country", "country"),
    ],
)
def test_a_store_that_does_not_ship_there_is_named_on_the_field_that_gave_the_country(
    destination: str, field: str
) -> None:
    store = _store()
    _method(store, "9000.00", countries=["GB"])
    shirt = make_variant(store=store)
    customer = _customer()

    with pytest.raises(ValidationFailed) as refused:
        if destination == "country":
            order_quote(customer_id=customer.pk, items=[OrderItem(shirt.pk, 1)], country="NG")
        elif destination == "address_id":
            address = make_address(customer=customer)
            _create(customer, [(shirt, 1)], address_id=address.pk)
        elif destination == "shipping_address":
            _create(customer, [(shirt, 1)], shipping_address=LAGOS)
        else:
            _create(customer, [(shirt, 1)])

    assert _errors(refused.value) == [(field, "not_served")]
    assert refused.value.message == f"{store.name} does not ship to NG."
    assert Order.objects.count() == 0


# --- quotes -----------------------------------------------------------------------------


def test_a_quote_prices_like_an_order_and_writes_nothing() -> None:
    shop_a, shop_b = _store(), _store()
    _method(shop_a, "2500.00", countries=["GB"])
    _method(shop_b, "4000.00")
    shirt = make_variant(store=shop_a, price="5000.00")
    cap = make_variant(store=shop_b, price="7000.00")

    quote = order_quote(
        customer_id=_customer().pk,
        items=[OrderItem(shirt.pk, 2), OrderItem(cap.pk, 1)],
        country=" uk ",
    )

    assert quote.currency == "NGN"
    assert quote.subtotal == Decimal("17000.00")
    assert quote.shipping_total == Decimal("6500.00")
    assert quote.total == Decimal("23500.00")
    assert quote.store_names == {shop_a.pk: shop_a.name, shop_b.pk: shop_b.name}
    assert [(q.store_id, q.subtotal, q.chosen.price) for q in quote.shipping] == [
        (shop_a.pk, Decimal("10000.00"), Decimal("2500.00")),
        (shop_b.pk, Decimal("7000.00"), Decimal("4000.00")),
    ]
    assert (Order.objects.count(), Shipment.objects.count(), _reserved(shirt)) == (0, 0, 0)


def test_a_quote_to_a_given_address_uses_its_country() -> None:
    store = _store()
    _method(store, "9000.00", countries=["GB"])
    shirt = make_variant(store=store)

    quote = order_quote(
        customer_id=_customer().pk, items=[OrderItem(shirt.pk, 1)], shipping_address=LONDON
    )

    assert quote.shipping_total == Decimal("9000.00")


def test_a_quote_to_an_address_from_the_book_uses_its_country() -> None:
    customer = _customer()
    address = make_address(customer=customer, **LONDON)
    store = _store()
    _method(store, "9000.00", countries=["GB"])

    quote = order_quote(
        customer_id=customer.pk,
        items=[OrderItem(make_variant(store=store).pk, 1)],
        address_id=address.pk,
    )

    assert quote.total == Decimal("14000.00")


def test_a_quote_for_a_country_and_an_address_is_refused_on_country() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order_quote(
            customer_id=_customer().pk,
            items=[OrderItem(1, 1)],
            country="NG",
            shipping_address=LONDON,
        )

    assert refused.value.message == "Give a country or an address, not both."
    assert _errors(refused.value) == [("country", "conflict")]


def test_a_quote_for_an_unknown_country_and_101_lines_names_both() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order_quote(customer_id=_customer().pk, items=[OrderItem(1, 1)] * 101, country="ZZ")

    assert refused.value.message == "An ISO 3166-1 alpha-2 country code."
    assert _errors(refused.value) == [("country", "invalid_choice"), ("items", "length")]


def test_a_quote_for_a_country_accepts_100_lines() -> None:
    shirt = make_variant(price="100.00", stock=1)

    quote = order_quote(
        customer_id=_customer().pk, items=[OrderItem(shirt.pk, 1)] * 100, country="ng"
    )

    assert quote.subtotal == Decimal("10000.00")


def test_a_quote_to_an_address_checks_the_request_like_an_order() -> None:
    with pytest.raises(ValidationFailed) as refused:
        order_quote(customer_id=_customer().pk, items=[], shipping_address=LONDON)

    assert refused.value.message == "Between 1 and 100 lines."
    assert _errors(refused.value) == [("items", "length")]


@pytest.mark.parametrize("quantity", [-3, 0, 1001])
def test_a_quote_for_a_country_checks_quantities_like_an_order(quantity: int) -> None:
    shirt = make_variant(price="5000.00")
    with pytest.raises(ValidationFailed) as refused:
        order_quote(customer_id=_customer().pk, items=[OrderItem(shirt.pk, quantity)], country="NG")

    assert _errors(refused.value) == [("items.0.quantity", "out_of_range")]


def test_a_quote_for_a_country_refuses_more_shipping_choices_than_stores_allowed() -> None:
    shirt = make_variant()
    with pytest.raises(ValidationFailed) as refused:
        order_quote(
            customer_id=_customer().pk,
            items=[OrderItem(shirt.pk, 1)],
            country="NG",
            shipping=[(store, 1) for store in range(101)],
        )

    assert _errors(refused.value) == [("shipping", "length")]
