"""Where an order goes: an address from the customer's book, one given with the order,
or (older clients) one text in the marketplace's country. Resolved to the text printed
on the order, the structured copy the order keeps, and the country shipping is for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.addresses.selectors import address_get
from apps.addresses.validation import AddressData, clean_address
from apps.common.errors import FieldError, NotFound, ValidationFailed

TEXT_LENGTH = (10, 500)


@dataclass(frozen=True)
class Destination:
    text: str
    country: str
    snapshot: dict[str, str] = field(default_factory=dict)
    address_id: int | None = None


def _from_data(data: AddressData, address_id: int | None = None) -> Destination:
    return Destination(data.one_line(), data.country, data.snapshot(), address_id)


def destination_errors(
    *,
    delivery_address: str | None,
    shipping_address: Mapping[str, Any] | None,
    address_id: int | None,
) -> list[FieldError]:
    """The request's address fields checked without the database (one of them, well
    formed)."""
    given = [
        name
        for name, value in (
            ("address_id", address_id),
            ("shipping_address", shipping_address),
            ("delivery_address", delivery_address),
        )
        if value is not None
    ]
    if not given:
        return [
            FieldError(
                "shipping_address",
                "Give a shipping_address, or the address_id of one in your address book.",
                "required",
            )
        ]
    if len(given) > 1:
        return [
            FieldError(name, f"Give only one of {', '.join(given)}.", "conflict")
            for name in given[1:]
        ]
    if delivery_address is not None:
        text = delivery_address.strip()
        if not TEXT_LENGTH[0] <= len(text) <= TEXT_LENGTH[1]:
            return [
                FieldError(
                    "delivery_address",
                    f"Between {TEXT_LENGTH[0]} and {TEXT_LENGTH[1]} characters.",
                    "length",
                )
            ]
    if shipping_address is not None:
        try:
            clean_address(shipping_address)
        except ValidationFailed as error:
            return [
                FieldError(f"shipping_address.{e.field}", e.message, e.code)
                for e in error.field_errors
            ]
    return []


def destination_resolve(
    *,
    customer_id: int,
    delivery_address: str | None,
    shipping_address: Mapping[str, Any] | None,
    address_id: int | None,
) -> Destination:
    """The order's destination (call ``destination_errors`` first). An address id that
    is not in the customer's book is a 422 on ``address_id``."""
    if address_id is not None:
        try:
            address = address_get(customer_id=customer_id, address_id=address_id)
        except NotFound:
            raise ValidationFailed.for_field(
                "address_id", "No such address in your address book.", "not_found"
            ) from None
        return _from_data(AddressData.from_snapshot(_address_fields(address)), address_id)
    if shipping_address is not None:
        return _from_data(clean_address(shipping_address))
    return Destination((delivery_address or "").strip(), settings.MARKETPLACE_COUNTRY)


def _address_fields(address: Any) -> dict[str, str]:
    return {
        name: getattr(address, name)
        for name in (
            "recipient_name",
            "phone",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
        )
    }
