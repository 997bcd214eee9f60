"""What shipping costs: per store, free above the store's threshold, the marketplace's
defaults for stores without methods, only methods serving the country, the customer's
pick or the cheapest — and the order's total is the lines plus every store's shipping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.common.errors import ValidationFailed
from apps.orders.services import OrderItem, order_quote
from apps.orders.tests.factories import place_order
from apps.shipping.models import Shipment
from apps.shipping.tests import factories as f
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_each_store_charges_its_cheapest_method_and_the_total_adds_them_up() -> None:
    adire, kente = f.shop(), f.shop()
    f.method(adire, "3500.00", name="Same day")
    f.method(adire, "2000.00", name="Nationwide")
    f.method(kente, "4000.00")
    dress, cloth = f.variant(adire, "12000.00"), f.variant(kente, "7500.50")

    order = place_order(items=[(dress, 2), (cloth, 1)])

    by_store = {s.store_id: s for s in Shipment.objects.filter(order=order)}
    assert (by_store[adire.pk].method_name, by_store[adire.pk].shipping_amount) == (
        "Nationwide",
        Decimal("2000.00"),
    )
    assert by_store[kente.pk].shipping_amount == Decimal("4000.00")
    assert order.shipping_amount == Decimal("6000.00")
    assert order.total_amount == Decimal("24000.00") + Decimal("7500.50") + Decimal("6000.00")


def test_shipping_is_free_from_the_threshold_of_the_stores_own_items() -> None:
    adire, other = f.shop(), f.shop()
    f.method(adire, "2500.00", free_above="30000.00")
    f.method(other, "1000.00")
    dress, scarf = f.variant(adire, "10000.00"), f.variant(other, "50000.00")

    # 29,999.99 of this store's items: not free, though the order is larger
    below = place_order(items=[(f.variant(adire, "29999.99"), 1), (scarf, 1)])
    at = place_order(items=[(dress, 3)])

    assert f.shipment_of(below, adire).shipping_amount == Decimal("2500.00")
    assert f.shipment_of(at, adire).shipping_amount == Decimal("0.00")
    assert at.total_amount == Decimal("30000.00")


def test_stores_without_methods_offer_the_marketplaces_and_else_ship_free() -> None:
    plain, own = f.shop(), f.shop()
    f.method(own, "1500.00")
    dress = f.variant(plain)

    free = place_order(items=[(dress, 1)])
    f.method(None, "3000.00", name="Marketplace standard")
    f.method(plain, "900.00", is_active=False)  # an inactive method is no method
    default = place_order(items=[(dress, 1)])

    assert (f.shipment_of(free, plain).method_name, free.shipping_amount) == (
        "Standard delivery",
        Decimal("0.00"),
    )
    assert f.shipment_of(default, plain).method_name == "Marketplace standard"
    assert default.shipping_amount == Decimal("3000.00")


def test_only_methods_serving_the_country_are_offered() -> None:
    adire = f.shop()
    f.method(adire, "2000.00", name="Nigeria", countries=["NG"])
    f.method(adire, "25000.00", name="Abroad", countries=["GB", "US"])
    dress = f.variant(adire)

    lagos = place_order(items=[(dress, 1)], shipping_address=f.LAGOS)
    london = place_order(items=[(dress, 1)], shipping_address=f.LONDON)

    assert f.shipment_of(lagos, adire).method_name == "Nigeria"
    assert f.shipment_of(london, adire).method_name == "Abroad"
    with pytest.raises(ValidationFailed) as refused:
        place_order(
            items=[(dress, 1)],
            shipping_address={
                **f.LONDON,
                "country": "KE",
                "postal_code": "00100",
                "phone": "+254 712 345678",
            },
        )
    [error] = refused.value.field_errors
    assert error.field == "shipping_address.country"
    assert adire.name in error.message


def test_the_customer_picks_a_method_per_store() -> None:
    adire, kente = f.shop(), f.shop()
    f.method(adire, "2000.00")
    express = f.method(adire, "6000.00", name="Express", days=(0, 1))
    f.method(kente, "1000.00")

    order = place_order(
        items=[(f.variant(adire), 1), (f.variant(kente), 1)],
        shipping=[(adire.pk, express.pk)],
    )

    assert f.shipment_of(order, adire).method_name == "Express"
    assert f.shipment_of(order, adire).max_days == 1
    assert f.shipment_of(order, kente).shipping_amount == Decimal("1000.00")
    assert order.shipping_amount == Decimal("7000.00")


def test_bad_choices_are_all_named_and_nothing_is_written() -> None:
    adire, kente, stranger = f.shop(), f.shop(), f.shop()
    f.method(adire, "2000.00")
    theirs = f.method(kente, "1000.00")
    f.method(stranger, "500.00")

    with pytest.raises(ValidationFailed) as refused:
        place_order(
            items=[(f.variant(adire), 1)],
            shipping=[(adire.pk, theirs.pk), (stranger.pk, theirs.pk), (adire.pk, theirs.pk)],
        )

    assert [e.field for e in refused.value.field_errors] == [
        "shipping.1.store_id",
        "shipping.2.store_id",
        "shipping.0.method_id",
    ]
    assert not Shipment.objects.exists()


def test_a_quote_prices_exactly_what_the_order_charges_and_writes_nothing() -> None:
    adire, kente = f.shop(), f.shop()
    f.method(adire, "2500.00", free_above="20000.00")
    f.method(adire, "6000.00", name="Express")
    f.method(kente, "1750.25")
    dress, cloth = f.variant(adire, "9000.00"), f.variant(kente, "4000.00")
    items = [OrderItem(dress.pk, 2), OrderItem(cloth.pk, 3)]
    customer = UserFactory.create()

    quote = order_quote(customer_id=customer.pk, items=items, country="NG")
    order = place_order(customer=customer, items=[(dress, 2), (cloth, 3)])

    assert [(q.store_id, q.chosen.price) for q in quote.shipping] == [
        (adire.pk, Decimal("2500.00")),
        (kente.pk, Decimal("1750.25")),
    ]
    assert [o.name for o in quote.shipping[0].options] == ["Method 2500.00", "Express"]
    assert (quote.subtotal, quote.shipping_total, quote.total) == (
        Decimal("30000.00"),
        Decimal("4250.25"),
        order.total_amount,
    )
    assert Shipment.objects.count() == 2  # the order's, none for the quote


def test_a_quote_names_a_bad_country_and_a_country_given_with_an_address() -> None:
    item = [OrderItem(f.variant(f.shop()).pk, 1)]
    customer = UserFactory.create()

    with pytest.raises(ValidationFailed) as unknown:
        order_quote(customer_id=customer.pk, items=item, country="XX")
    with pytest.raises(ValidationFailed) as both:
        order_quote(customer_id=customer.pk, items=item, country="NG", shipping_address=f.LAGOS)

    assert [e.field for e in unknown.value.field_errors] == ["country"]
    assert [e.field for e in both.value.field_errors] == ["country"]
