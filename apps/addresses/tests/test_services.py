"""The address book: one default at a time, at most 20 addresses, changes checked again,
and nobody reaching another customer's addresses."""

from __future__ import annotations

import pytest

from apps.addresses.models import Address
from apps.addresses.selectors import address_default, address_get, address_list
from apps.addresses.services import MAX_ADDRESSES, address_create, address_delete, address_update
from apps.addresses.tests.factories import LAGOS, make_address
from apps.common.errors import Conflict, NotFound, ValidationFailed
from apps.vendors.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _defaults(customer_id: int) -> list[int]:
    return list(
        Address.objects.filter(customer_id=customer_id, is_default=True).values_list(
            "pk", flat=True
        )
    )


def test_the_first_address_is_the_default_and_later_ones_are_not() -> None:
    customer = UserFactory.create()

    first = make_address(customer=customer)
    second = make_address(customer=customer, city="Ikeja")

    assert _defaults(customer.pk) == [first.pk]
    assert not second.is_default


def test_a_new_default_replaces_the_old_one() -> None:
    customer = UserFactory.create()
    first = make_address(customer=customer)

    second = make_address(customer=customer, is_default=True)

    assert _defaults(customer.pk) == [second.pk]
    first.refresh_from_db()
    assert not first.is_default


def test_the_address_is_stored_normalised_with_its_label() -> None:
    address = address_create(
        customer=UserFactory.create(),
        data=LAGOS | {"country": "ng", "region": "lagos state"},
        label="  Home ",
    )

    address.refresh_from_db()
    assert (address.label, address.country, address.region, address.phone) == (
        "Home",
        "NG",
        "Lagos",
        "+2348031234567",
    )


def test_a_bad_label_and_a_bad_address_are_named_together() -> None:
    with pytest.raises(ValidationFailed) as caught:
        address_create(customer=UserFactory.create(), data=LAGOS | {"phone": "1"}, label="x" * 41)

    assert {error.field for error in caught.value.field_errors} == {"phone", "label"}
    assert not Address.objects.exists()


def test_a_full_book_refuses_another_address() -> None:
    customer = UserFactory.create()
    for _ in range(MAX_ADDRESSES):
        make_address(customer=customer)

    with pytest.raises(Conflict) as caught:
        make_address(customer=customer)

    assert caught.value.status == 409
    assert caught.value.code == "address_limit_reached"
    assert customer.addresses.count() == MAX_ADDRESSES
    # The limit is per customer.
    assert make_address().pk


def test_an_update_checks_the_merged_address() -> None:
    address = make_address()

    # A UK postcode is required: moving the address to GB without one is refused...
    with pytest.raises(ValidationFailed) as caught:
        address_update(
            customer=address.customer,
            address_id=address.pk,
            data={"country": "GB", "region": "", "phone": "+442079460018"},
        )
    assert {error.field for error in caught.value.field_errors} == {"postal_code"}

    # ...and accepted with one; the fields not given are kept.
    updated = address_update(
        customer=address.customer,
        address_id=address.pk,
        data={"country": "GB", "region": "", "postal_code": "sw1a1aa", "label": "Work"},
    )
    updated.refresh_from_db()
    assert (updated.country, updated.postal_code, updated.line1, updated.label) == (
        "GB",
        "SW1A 1AA",
        "12 Admiralty Way",
        "Work",
    )


def test_an_update_can_move_the_default_but_not_unset_it() -> None:
    customer = UserFactory.create()
    first = make_address(customer=customer)
    second = make_address(customer=customer)

    address_update(customer=customer, address_id=second.pk, data={"is_default": True})
    assert _defaults(customer.pk) == [second.pk]

    with pytest.raises(ValidationFailed) as caught:
        address_update(
            customer=customer, address_id=second.pk, data={"is_default": False, "city": ""}
        )
    assert {error.field for error in caught.value.field_errors} == {"is_default", "city"}
    assert _defaults(customer.pk) == [second.pk]
    assert first.pk in [a.pk for a in address_list(customer_id=customer.pk)]


def test_deleting_the_default_makes_the_newest_other_address_the_default() -> None:
    customer = UserFactory.create()
    default = make_address(customer=customer)
    make_address(customer=customer, city="Older")
    newest = make_address(customer=customer, city="Newest")

    address_delete(customer=customer, address_id=default.pk)

    assert _defaults(customer.pk) == [newest.pk]
    assert customer.addresses.count() == 2


def test_deleting_the_last_address_leaves_an_empty_book() -> None:
    address = make_address()

    address_delete(customer=address.customer, address_id=address.pk)

    assert not Address.objects.exists()


def test_another_customers_address_is_not_found_for_every_operation() -> None:
    address = make_address()
    stranger = UserFactory.create()

    with pytest.raises(NotFound):
        address_get(customer_id=stranger.pk, address_id=address.pk)
    with pytest.raises(NotFound):
        address_update(customer=stranger, address_id=address.pk, data={"city": "Abuja"})
    with pytest.raises(NotFound):
        address_delete(customer=stranger, address_id=address.pk)

    address.refresh_from_db()
    assert address.city == "Lagos"


def test_the_list_shows_the_default_first_then_the_newest() -> None:
    customer = UserFactory.create()
    default = make_address(customer=customer)
    older = make_address(customer=customer)
    newer = make_address(customer=customer)
    make_address()  # someone else's

    assert [a.pk for a in address_list(customer_id=customer.pk)] == [
        default.pk,
        newer.pk,
        older.pk,
    ]


def test_the_default_address_of_a_customer() -> None:
    customer = UserFactory.create()
    assert address_default(customer_id=customer.pk) is None

    make_address(customer=customer)
    chosen = make_address(customer=customer, is_default=True)

    default = address_default(customer_id=customer.pk)
    assert default is not None and default.pk == chosen.pk
