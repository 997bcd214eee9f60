"""v2 address book (async): list, add, read, change, remove — each one hop into one sync
call. A customer sees and changes only their own addresses; any other id answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from apps.addresses.models import LABEL_MAX_LENGTH
from apps.addresses.selectors import DEFAULT_PAGE_SIZE, address_data, address_get, address_page
from apps.addresses.services import address_create, address_delete, address_update
from apps.addresses.validation import MAX_LENGTHS, REQUIRED
from apps.authentication.apis.ninja_auth import bearer_auth
from apps.authentication.selectors import user_get_active
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.common.limits import MAX_OFFSET

router = Router(tags=["addresses"], auth=bearer_auth)

_DESCRIPTIONS = {
    "recipient_name": "Who receives the parcel.",
    "phone": "The recipient's phone: national form for the address's country, or "
    "international (+44 …) for another. Answered in E.164.",
    "line1": "Street and number.",
    "line2": "Flat, floor, landmark (optional).",
    "city": "City or town.",
    "region": "State, county or province: required in NG (a state or FCT) and the US "
    "(two-letter code); optional elsewhere.",
    "postal_code": "Required in the UK, the US and the EU (except IE); see docs/addresses.md.",
    "country": "ISO 3166-1 alpha-2 (NG, GH, KE, GB, US, DE …); UK is read as GB.",
}


def _text(name: str, default: str | None) -> Any:
    return Field(default, max_length=MAX_LENGTHS[name], description=_DESCRIPTIONS[name])


def _document_required(schema: dict[str, Any]) -> None:
    schema["required"] = list(REQUIRED)
    for name in REQUIRED:
        schema["properties"][name].pop("default", None)


class AddressIn(Schema):
    # Required fields default to "" so that one answer names every missing or bad field
    # (the service checks them together); the document still lists them as required.
    model_config = ConfigDict(json_schema_extra=_document_required)

    recipient_name: str = _text("recipient_name", "")
    phone: str = _text("phone", "")
    line1: str = _text("line1", "")
    line2: str = _text("line2", "")
    city: str = _text("city", "")
    region: str = _text("region", "")
    postal_code: str = _text("postal_code", "")
    country: str = _text("country", "")
    label: str = Field("", max_length=LABEL_MAX_LENGTH, description='e.g. "Home", "Office".')
    is_default: bool = Field(
        False, description="Make this the default address (the first address always is)."
    )


class AddressPatch(Schema):
    """The fields to change; the address that results is checked as a whole."""

    recipient_name: str | None = _text("recipient_name", None)
    phone: str | None = _text("phone", None)
    line1: str | None = _text("line1", None)
    line2: str | None = _text("line2", None)
    city: str | None = _text("city", None)
    region: str | None = _text("region", None)
    postal_code: str | None = _text("postal_code", None)
    country: str | None = _text("country", None)
    label: str | None = Field(None, max_length=LABEL_MAX_LENGTH)
    is_default: bool | None = Field(
        None, description="true makes this the default; to move the default, set it on another."
    )


class AddressOut(Schema):
    id: int
    label: str
    is_default: bool
    recipient_name: str
    phone: str = Field(description="E.164, e.g. +2348031234567")
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    country_name: str
    text: str = Field(description="The whole address on one line, as printed on a label.")
    created_at: datetime
    updated_at: datetime


class AddressPageOut(Schema):
    items: list[AddressOut]
    count: int
    next_offset: int | None


class AddressListIn(Schema):
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, description="Page size; above 100 gives 100 (the maximum)."
    )


def _customer_id(request: HttpRequest) -> int:
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return principal.user_id


def _create(customer_id: int, payload: AddressIn) -> dict[str, Any]:
    fields = payload.model_dump()
    label, is_default = fields.pop("label"), fields.pop("is_default")
    address = address_create(
        customer=user_get_active(user_id=customer_id),
        data=fields,
        label=label,
        is_default=is_default,
    )
    return address_data(address)


def _update(customer_id: int, address_id: int, payload: AddressPatch) -> dict[str, Any]:
    address = address_update(
        customer=user_get_active(user_id=customer_id),
        address_id=address_id,
        data=payload.model_dump(exclude_unset=True),
    )
    return address_data(address)


def _get(customer_id: int, address_id: int) -> dict[str, Any]:
    return address_data(address_get(customer_id=customer_id, address_id=address_id))


def _delete(customer_id: int, address_id: int) -> None:
    address_delete(customer=user_get_active(user_id=customer_id), address_id=address_id)


@router.get(
    "/addresses/",
    response={200: AddressPageOut, 422: Problem},
    summary="My addresses",
    operation_id="address_list",
)
async def list_addresses(request: HttpRequest, page: Query[AddressListIn]) -> dict[str, Any]:
    """Your address book, the default first, then the newest; ``offset``/``limit`` page."""
    return await in_thread(address_page, customer_id=_customer_id(request), **page.model_dump())


@router.post(
    "/addresses/",
    response={201: AddressOut, 409: Problem, 422: Problem},
    summary="Add an address",
    operation_id="address_create",
)
async def create_address(request: HttpRequest, payload: AddressIn) -> Status:
    """Checks the address for its country (postal code, state, phone) and adds it; the
    first address becomes the default. 422 names every bad field; 409
    ``address_limit_reached`` when the book already holds 20 addresses."""
    return Status(201, await in_thread(_create, _customer_id(request), payload))


@router.get(
    "/addresses/{address_id}/",
    response={200: AddressOut, 404: Problem},
    summary="One address",
    operation_id="address_get",
)
async def get_address(request: HttpRequest, address_id: int) -> dict[str, Any]:
    """One of your addresses; any other id answers 404."""
    return await in_thread(_get, _customer_id(request), address_id)


@router.patch(
    "/addresses/{address_id}/",
    response={200: AddressOut, 404: Problem, 422: Problem},
    summary="Change an address",
    operation_id="address_update",
)
async def update_address(
    request: HttpRequest, address_id: int, payload: AddressPatch
) -> dict[str, Any]:
    """Changes the fields given; the address that results is checked again as a whole
    (422 names every bad field). ``is_default: true`` makes it the default."""
    return await in_thread(_update, _customer_id(request), address_id, payload)


@router.delete(
    "/addresses/{address_id}/",
    response={204: None, 404: Problem},
    summary="Remove an address",
    operation_id="address_delete",
)
async def delete_address(request: HttpRequest, address_id: int) -> Status:
    """Removes one of your addresses; when it was the default, the most recently added
    other address becomes the default."""
    await in_thread(_delete, _customer_id(request), address_id)
    return Status(204, None)
