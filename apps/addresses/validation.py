"""A postal address, checked and normalised: :func:`clean_address` turns what a customer
typed into an :class:`AddressData` or raises one ``ValidationFailed`` naming every bad
field. The address book stores it; an order copies its :meth:`AddressData.snapshot`.

Rules per country live in ``apps.addresses.rules`` (docs/addresses.md has the table).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import phonenumbers

from apps.addresses.countries import COUNTRY_ALIASES, COUNTRY_NAMES
from apps.addresses.rules import DEFAULT_POSTAL, POSTAL_RULES, nigerian_state, us_state
from apps.common.errors import FieldError, ValidationFailed

#: Longest accepted value of each field (the model's column lengths).
MAX_LENGTHS: dict[str, int] = {
    "recipient_name": 100,
    "phone": 32,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 16,
    "country": 2,
}
REQUIRED = ("recipient_name", "phone", "line1", "city", "country")
#: Longest phone number as typed (spaces, brackets and the like included).
PHONE_INPUT_MAX_LENGTH = 32
#: Longest E.164 number: a plus and fifteen digits.
PHONE_MAX_LENGTH = 16

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, kw_only=True)
class AddressData:
    """A checked, normalised address. Build it with :func:`clean_address`."""

    recipient_name: str
    phone: str  # E.164, e.g. +2348031234567
    line1: str
    line2: str = ""
    city: str
    region: str = ""
    postal_code: str = ""
    country: str  # ISO 3166-1 alpha-2, upper case

    @property
    def country_name(self) -> str:
        return COUNTRY_NAMES.get(self.country, self.country)

    def snapshot(self) -> dict[str, str]:
        """Every field as a JSON-safe dict: what an order keeps of the address."""
        return asdict(self)

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> AddressData:
        """The address a :meth:`snapshot` was taken of (missing optional fields are empty;
        keys that are not fields are ignored). It is not checked again."""
        names = {field.name for field in fields(cls)}
        values = {name: str(snapshot.get(name) or "") for name in names}
        return cls(**values)

    def one_line(self) -> str:
        """The address on one line, as a courier reads it: name, street lines, city,
        region and postal code, country (``Ada Obi, 12 Admiralty Way, Lekki, Lagos, Lagos
        106104, Nigeria``)."""
        area = " ".join(part for part in (self.region, self.postal_code) if part)
        parts = (self.recipient_name, self.line1, self.line2, self.city, area, self.country_name)
        return ", ".join(part for part in parts if part)


def _text(value: Any, name: str, errors: list[FieldError]) -> str:
    """``value`` stripped, runs of white space made one space; "" when absent."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(name, "Must be text.", "invalid_type"))
        return ""
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value if char not in " \t"):
        errors.append(
            FieldError(name, "Must be one line without control characters.", "invalid_characters")
        )
        return ""
    return _SPACES.sub(" ", value).strip()


def _country(value: str, errors: list[FieldError]) -> str | None:
    code = COUNTRY_ALIASES.get(value.upper(), value.upper())
    if code in COUNTRY_NAMES:
        return code
    errors.append(
        FieldError(
            "country", "Not an ISO 3166-1 alpha-2 country code (e.g. NG).", "invalid_country"
        )
    )
    return None


def _phone(value: str, country: str | None, errors: list[FieldError]) -> str:
    """The number in E.164. A national number is read as one of ``country``; a number in
    international form (``+44 …``) may belong to any country."""
    if len(value) > PHONE_INPUT_MAX_LENGTH:
        errors.append(FieldError("phone", "Too long.", "too_long"))
        return value
    if country is None and not value.startswith("+"):
        return value  # cannot be read without a country; the country error says why
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        where = f" for {COUNTRY_NAMES[country]}" if country else ""
        errors.append(
            FieldError(
                "phone",
                f"Not a valid phone number{where}; give it in international form "
                "(+234 803 123 4567) if it belongs to another country.",
                "invalid_phone",
            )
        )
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _postal_code(value: str, country: str, errors: list[FieldError]) -> str:
    rule = POSTAL_RULES.get(country, DEFAULT_POSTAL)
    if not value:
        if rule.required:
            errors.append(
                FieldError(
                    "postal_code",
                    f"Required for {COUNTRY_NAMES[country]} (e.g. {rule.example}).",
                    "required",
                )
            )
        return ""
    normalised = rule.normalise(value)
    if not rule.pattern.fullmatch(normalised):
        example = f" (e.g. {rule.example})" if rule.example else ""
        errors.append(
            FieldError(
                "postal_code",
                f"Not a postal code of {COUNTRY_NAMES[country]}{example}.",
                "invalid_postal_code",
            )
        )
        return value
    return normalised


def _region(value: str, country: str, errors: list[FieldError]) -> str:
    if country == "NG":
        if not value:
            errors.append(FieldError("region", "The state is required for Nigeria.", "required"))
            return ""
        state = nigerian_state(value)
        if state is None:
            errors.append(
                FieldError(
                    "region", "Not a Nigerian state (e.g. Lagos, Rivers, FCT).", "invalid_region"
                )
            )
            return value
        return state
    if country == "US":
        if not value:
            errors.append(
                FieldError("region", "The state is required for the United States.", "required")
            )
            return ""
        code = us_state(value)
        if code is None:
            errors.append(
                FieldError(
                    "region",
                    "Not a US state or territory; give its two-letter code (e.g. CA, NY, DC).",
                    "invalid_region",
                )
            )
            return value
        return code
    return value


def clean_address(data: Mapping[str, Any]) -> AddressData:
    """Check and normalise an address given as a mapping of the :class:`AddressData`
    fields (absent optional fields are empty; other keys are ignored).

    Text is stripped; the country is upper case (``UK`` becomes ``GB``); the phone becomes
    E.164 (read as a number of the country unless it starts with ``+``); postal codes and
    regions take their country's written form (docs/addresses.md).

    Raises ``ValidationFailed`` (422) whose ``field_errors`` name every bad field at once.
    """
    errors: list[FieldError] = []
    values = {name: _text(data.get(name), name, errors) for name in MAX_LENGTHS}
    bad = {error.field for error in errors}
    for name in REQUIRED:
        if name not in bad and not values[name]:
            errors.append(FieldError(name, "This field is required.", "required"))
            bad.add(name)
    for name, limit in MAX_LENGTHS.items():
        if name not in bad and name not in ("phone", "country") and len(values[name]) > limit:
            errors.append(FieldError(name, f"At most {limit} characters.", "too_long"))
            bad.add(name)

    country = _country(values["country"], errors) if "country" not in bad else None
    if "phone" not in bad:
        values["phone"] = _phone(values["phone"], country, errors)
    if country is not None:
        values["country"] = country
        if "postal_code" not in bad:
            values["postal_code"] = _postal_code(values["postal_code"], country, errors)
        if "region" not in bad:
            values["region"] = _region(values["region"], country, errors)

    if errors:
        errors.sort(key=lambda error: list(MAX_LENGTHS).index(error.field))
        detail = "; ".join(f"{error.field}: {error.message}" for error in errors[:5])
        raise ValidationFailed(detail, field_errors=errors)
    return AddressData(**values)
