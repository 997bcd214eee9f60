"""Where an order goes: the request's address fields checked (one of them, well formed)
and resolved to the text on the order, its structured copy and the country shipped to."""

from __future__ import annotations

from typing import Any

import pytest

from apps.addresses.tests.factories import LAGOS, make_address
from apps.common.errors import ValidationFailed
from apps.orders.services.destination import Destination, destination_errors, destination_resolve
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = {
    "recipient_name": "Sam Doe",
    "phone": "+44 20 7946 0958",
    "line1": "1 Long Acre",
    "city": "London",
    "postal_code": "wc2e 9lh",
    "country": "gb",
}


def _errors(**given: Any) -> list[tuple[str, str]]:
    fields = {"delivery_address": None, "shipping_address": None, "address_id": None} | given
    return [(error.field, error.code) for error in destination_errors(**fields)]


def test_an_order_without_any_address_is_told_to_give_a_shipping_address() -> None:
    assert _errors() == [("shipping_address", "required")]


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"address_id": 1, "shipping_address": LONDON}, ["shipping_address"]),
        ({"address_id": 1, "delivery_address": "12 Admiralty Way, Lagos"}, ["delivery_address"]),
        (
            {"shipping_address": LONDON, "delivery_address": "12 Admiralty Way, Lagos"},
            ["delivery_address"],
        ),
        (
            {"address_id": 0, "shipping_address": LONDON, "delivery_address": "12 Admiralty"},
            ["shipping_address", "delivery_address"],
        ),
    ],
)
def test_two_addresses_at_once_are_a_conflict_on_every_one_after_the_first(
    given: dict[str, Any], refused: list[str]
) -> None:
    assert _errors(**given) == [(name, "conflict") for name in refused]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("a" * 9, False),
        ("  " + "a" * 9 + "  ", False),
        ("a" * 10, True),
        ("  " + "a" * 10 + "\n", True),
        ("a" * 500, True),
        ("a" * 501, False),
    ],
)
def test_a_one_line_address_is_between_10_and_500_characters_after_trimming(
    text: str, accepted: bool
) -> None:
    assert _errors(delivery_address=text) == ([] if accepted else [("delivery_address", "length")])


def test_a_well_formed_address_or_an_address_id_alone_passes_the_check() -> None:
    assert _errors(shipping_address=LONDON) == []
    assert _errors(address_id=12345) == []


def test_a_malformed_shipping_address_names_each_bad_field_under_shipping_address() -> None:
    bad = LONDON | {"postal_code": "not a postcode", "country": "XX"}
    errors = _errors(shipping_address=bad)
    assert ("shipping_address.country", "invalid_country") in errors
    assert all(field.startswith("shipping_address.") for field, _ in errors)
    assert _errors(shipping_address=LONDON | {"city": ""}) == [
        ("shipping_address.city", "required")
    ]


def test_an_address_from_the_book_is_copied_whole_onto_the_order() -> None:
    address = make_address(label="Home")
    resolved = destination_resolve(
        customer_id=address.customer_id,
        delivery_address=None,
        shipping_address=None,
        address_id=address.pk,
    )
    expected = {name: getattr(address, name) for name in LAGOS}
    assert resolved == Destination(
        text="Ada Obi, 12 Admiralty Way, Lekki Phase 1, Lagos, Lagos 106104, Nigeria",
        country="NG",
        snapshot=expected,
        address_id=address.pk,
    )
    assert expected["phone"] == "+2348031234567"


def test_another_customers_address_is_not_found_in_the_book() -> None:
    address = make_address()
    with pytest.raises(ValidationFailed) as raised:
        destination_resolve(
            customer_id=UserFactory.create().pk,
            delivery_address=None,
            shipping_address=None,
            address_id=address.pk,
        )
    [error] = raised.value.field_errors
    assert (error.field, error.code) == ("address_id", "not_found")


def test_an_address_given_with_the_order_is_normalised_and_kept_without_a_book_entry() -> None:
    resolved = destination_resolve(
        customer_id=UserFactory.create().pk,
        delivery_address=None,
        shipping_address=LONDON,
        address_id=None,
    )
    assert resolved.country == "GB"
    assert resolved.address_id is None
    assert resolved.snapshot["postal_code"] == "WC2E 9LH"
    assert resolved.snapshot["phone"] == "+442079460958"
    assert resolved.text == "Sam Doe, 1 Long Acre, London, WC2E 9LH, United Kingdom"


def test_a_one_line_address_ships_within_the_marketplace_country(settings: Any) -> None:
    settings.MARKETPLACE_COUNTRY = "GH"
    resolved = destination_resolve(
        customer_id=UserFactory.create().pk,
        delivery_address="  House 4, Ring Road, Accra \n",
        shipping_address=None,
        address_id=None,
    )
    assert resolved == Destination("House 4, Ring Road, Accra", "GH", {}, None)
