"""Addresses checked per country: postal codes, regions and phones normalised to the form
a courier expects, and every bad field named in one answer."""

from __future__ import annotations

from typing import Any

import pytest

from apps.addresses.validation import AddressData, clean_address
from apps.common.errors import ValidationFailed

BASE: dict[str, str] = {"recipient_name": "Ada Obi", "line1": "12 Admiralty Way", "city": "Town"}


def _address(**fields: Any) -> dict[str, Any]:
    return BASE | fields


def _bad_fields(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        clean_address(data)
    assert caught.value.status == 422
    return {error.field: error.code for error in caught.value.field_errors}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # Nigeria: a state (spelt as people spell it), an optional six-digit postal code.
        (
            {"country": "ng", "phone": "0803 123 4567", "region": "lagos state"},
            {"country": "NG", "phone": "+2348031234567", "region": "Lagos", "postal_code": ""},
        ),
        (
            {"country": "NG", "phone": "08031234567", "region": "FCT", "postal_code": "900001"},
            {"region": "Federal Capital Territory", "postal_code": "900001"},
        ),
        (
            {"country": "NG", "phone": "08031234567", "region": "Abuja"},
            {"region": "Federal Capital Territory"},
        ),
        ({"country": "NG", "phone": "08031234567", "region": "akwa-ibom"}, {"region": "Akwa Ibom"}),
        ({"country": "NG", "phone": "08031234567", "region": "Nassarawa"}, {"region": "Nasarawa"}),
        # Ghana: a GhanaPost GPS address or nothing.
        (
            {"country": "GH", "phone": "024 412 3456", "postal_code": "ga1838164"},
            {"phone": "+233244123456", "postal_code": "GA-183-8164"},
        ),
        (
            {"country": "GH", "phone": "0244123456", "postal_code": "AK-0039-5028"},
            {"postal_code": "AK-0039-5028"},
        ),
        ({"country": "GH", "phone": "0244123456"}, {"postal_code": ""}),
        # Kenya: an optional five-digit code.
        (
            {"country": "KE", "phone": "0712 345678", "postal_code": "00100"},
            {"phone": "+254712345678", "postal_code": "00100"},
        ),
        # The UK: "UK" is read as GB, the postcode in upper case with one space.
        (
            {"country": "uk", "phone": "020 7946 0018", "postal_code": "sw1a1aa"},
            {"country": "GB", "phone": "+442079460018", "postal_code": "SW1A 1AA"},
        ),
        (
            {"country": "GB", "phone": "020 7946 0018", "postal_code": "m1  1ae"},
            {"postal_code": "M1 1AE"},
        ),
        (
            {"country": "GB", "phone": "020 7946 0018", "postal_code": "EC1A 1BB"},
            {"postal_code": "EC1A 1BB"},
        ),
        # The US: a state code (or name) and a ZIP or ZIP+4.
        (
            {"country": "US", "phone": "(415) 555-2671", "region": "ca", "postal_code": "94105"},
            {"phone": "+14155552671", "region": "CA", "postal_code": "94105"},
        ),
        (
            {
                "country": "US",
                "phone": "415 555 2671",
                "region": "New York",
                "postal_code": "100011234",
            },
            {"region": "NY", "postal_code": "10001-1234"},
        ),
        # The EU, one pattern per country.
        (
            {"country": "DE", "phone": "030 901820", "postal_code": "10115"},
            {"phone": "+4930901820", "postal_code": "10115"},
        ),
        (
            {"country": "FR", "phone": "01 42 68 53 00", "postal_code": "75008"},
            {"phone": "+33142685300", "postal_code": "75008"},
        ),
        (
            {"country": "NL", "phone": "020 123 4567", "postal_code": "1012ab"},
            {"postal_code": "1012 AB"},
        ),
        (
            {"country": "BE", "phone": "+32 12 34 56 78", "postal_code": "1000"},
            {"postal_code": "1000"},
        ),
        (
            {"country": "IE", "phone": "+353 1 234 5678", "postal_code": "d02x285"},
            {"postal_code": "D02 X285"},
        ),
        ({"country": "IE", "phone": "+353 1 234 5678"}, {"postal_code": ""}),
        (
            {"country": "PT", "phone": "+351 21 123 4567", "postal_code": "1000 001"},
            {"postal_code": "1000-001"},
        ),
        (
            {"country": "PL", "phone": "22 123 45 67", "postal_code": "00950"},
            {"postal_code": "00-950"},
        ),
        (
            {"country": "SE", "phone": "+46 8 123 456 78", "postal_code": "11455"},
            {"postal_code": "114 55"},
        ),
        (
            {"country": "GR", "phone": "+30 21 0123 4567", "postal_code": "104 31"},
            {"postal_code": "104 31"},
        ),
        (
            {"country": "LT", "phone": "+370 612 34567", "postal_code": "01100"},
            {"postal_code": "LT-01100"},
        ),
        (
            {"country": "LT", "phone": "+370 612 34567", "postal_code": "lt-01100"},
            {"postal_code": "LT-01100"},
        ),
        (
            {"country": "LV", "phone": "+371 2123 4567", "postal_code": "1050"},
            {"postal_code": "LV-1050"},
        ),
        (
            {"country": "RO", "phone": "+40 21 123 4567", "postal_code": "010011"},
            {"postal_code": "010011"},
        ),
        (
            {"country": "MT", "phone": "+356 2122 1234", "postal_code": "vlt1117"},
            {"postal_code": "VLT 1117"},
        ),
        # Elsewhere: any short code, upper case, or none.
        (
            {"country": "CA", "phone": "+1 613 555 0123", "postal_code": "k1a 0b1"},
            {"postal_code": "K1A 0B1"},
        ),
        ({"country": "ZA", "phone": "+27 21 123 4567"}, {"postal_code": ""}),
    ],
)
def test_a_good_address_is_normalised_for_its_country(
    fields: dict[str, str], expected: dict[str, str]
) -> None:
    address = clean_address(_address(**fields))

    assert {name: getattr(address, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"country": "NG", "phone": "08031234567"}, "region", "required"),
        ({"country": "NG", "phone": "08031234567", "region": "Accra"}, "region", "invalid_region"),
        (
            {"country": "NG", "phone": "08031234567", "region": "Lagos", "postal_code": "10001"},
            "postal_code",
            "invalid_postal_code",
        ),
        ({"country": "NG", "phone": "12345", "region": "Lagos"}, "phone", "invalid_phone"),
        (
            {"country": "GH", "phone": "0244123456", "postal_code": "12345"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "KE", "phone": "0712345678", "postal_code": "0010"},
            "postal_code",
            "invalid_postal_code",
        ),
        ({"country": "GB", "phone": "020 7946 0018"}, "postal_code", "required"),
        (
            {"country": "GB", "phone": "020 7946 0018", "postal_code": "12345"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "GB", "phone": "020 7946 0018", "postal_code": "SW1A"},
            "postal_code",
            "invalid_postal_code",
        ),
        ({"country": "US", "phone": "415 555 2671", "postal_code": "94105"}, "region", "required"),
        (
            {"country": "US", "phone": "415 555 2671", "region": "XX", "postal_code": "94105"},
            "region",
            "invalid_region",
        ),
        (
            {"country": "US", "phone": "415 555 2671", "region": "CA", "postal_code": "9410"},
            "postal_code",
            "invalid_postal_code",
        ),
        ({"country": "US", "phone": "415 555 2671", "region": "CA"}, "postal_code", "required"),
        # A national number of another country: Nigerian digits on a US address.
        (
            {"country": "US", "phone": "0803 123 4567", "region": "CA", "postal_code": "94105"},
            "phone",
            "invalid_phone",
        ),
        ({"country": "DE", "phone": "030 901820"}, "postal_code", "required"),
        (
            {"country": "DE", "phone": "030 901820", "postal_code": "1011"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "FR", "phone": "0142685300", "postal_code": "7500"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "NL", "phone": "0201234567", "postal_code": "0123 AB"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "IE", "phone": "+35312345678", "postal_code": "12345"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "PT", "phone": "+351211234567", "postal_code": "1000"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "MT", "phone": "+35621221234", "postal_code": "1117"},
            "postal_code",
            "invalid_postal_code",
        ),
        (
            {"country": "CA", "phone": "+16135550123", "postal_code": "K1A 0B1 EXTRA TEXT"},
            "postal_code",
            "too_long",
        ),
        ({"country": "XX", "phone": "+2348031234567"}, "country", "invalid_country"),
        ({"country": "NGA", "phone": "+2348031234567"}, "country", "invalid_country"),
        (
            {"country": "KE", "phone": "0712345678", "recipient_name": "x" * 101},
            "recipient_name",
            "too_long",
        ),
        ({"country": "KE", "phone": "0712345678", "line1": "x" * 201}, "line1", "too_long"),
        ({"country": "KE", "phone": "0712345678", "city": "   "}, "city", "required"),
        (
            {"country": "KE", "phone": "0712345678", "line2": "Flat 2\nDrop table"},
            "line2",
            "invalid_characters",
        ),
        ({"country": "KE", "phone": 712345678}, "phone", "invalid_type"),
    ],
)
def test_a_bad_field_is_named(fields: dict[str, Any], field: str, code: str) -> None:
    assert _bad_fields(_address(**fields)) == {field: code}


def test_every_bad_field_is_named_at_once() -> None:
    data = {
        "recipient_name": "",
        "phone": "123",
        "line1": "x" * 201,
        "city": "",
        "region": "Gotham",
        "postal_code": "1",
        "country": "NG",
    }

    assert _bad_fields(data) == {
        "recipient_name": "required",
        "phone": "invalid_phone",
        "line1": "too_long",
        "city": "required",
        "region": "invalid_region",
        "postal_code": "invalid_postal_code",
    }


def test_an_international_number_of_another_country_is_kept_in_e164() -> None:
    address = clean_address(_address(country="NG", region="Rivers", phone="+44 (0)20 7946 0018"))

    assert address.phone == "+442079460018"


def test_an_unknown_country_is_named_and_a_national_phone_is_not_guessed() -> None:
    # Without a country a national number cannot be read: only the country is at fault.
    assert _bad_fields(_address(country="ZZ", phone="0803 123 4567")) == {
        "country": "invalid_country"
    }


def test_whitespace_is_tidied() -> None:
    address = clean_address(
        _address(
            recipient_name="  Ada \t Obi ",
            line1=" 12  Admiralty Way ",
            country=" ke ",
            phone="0712345678",
        )
    )

    assert (address.recipient_name, address.line1, address.country) == (
        "Ada Obi",
        "12 Admiralty Way",
        "KE",
    )


def test_a_snapshot_is_plain_json_and_gives_the_same_address_back() -> None:
    address = clean_address(
        _address(country="NG", region="Lagos", phone="08031234567", line2="Lekki Phase 1")
    )

    snapshot = address.snapshot()

    assert snapshot == {
        "recipient_name": "Ada Obi",
        "phone": "+2348031234567",
        "line1": "12 Admiralty Way",
        "line2": "Lekki Phase 1",
        "city": "Town",
        "region": "Lagos",
        "postal_code": "",
        "country": "NG",
    }
    assert AddressData.from_snapshot(snapshot) == address


def test_one_line_reads_like_a_label_with_the_country_name() -> None:
    address = clean_address(
        _address(country="GB", phone="020 7946 0018", city="London", postal_code="sw1a1aa")
    )

    assert address.one_line() == "Ada Obi, 12 Admiralty Way, London, SW1A 1AA, United Kingdom"
