"""Writes on a customer's address book: add, change, remove, choose the default.

Each write locks the customer's book (their account row) for its transaction, so two
concurrent writes cannot leave a customer with two defaults, none, or more than
``MAX_ADDRESSES`` addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from django.db import transaction

from apps.addresses.models import LABEL_MAX_LENGTH, Address
from apps.addresses.validation import AddressData, clean_address
from apps.authentication.models import User
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed

logger = structlog.get_logger(__name__)

#: Most addresses one customer may keep.
MAX_ADDRESSES = 20
ADDRESS_FIELDS = tuple(AddressData.__dataclass_fields__)


class AddressLimitReached(Conflict):
    default_code = "address_limit_reached"
    title = "Address book full"


def _locked_book(customer: User) -> list[Address]:
    """The customer's addresses, with the book locked until the transaction ends.

    The lock is the customer's own row: unlike the address rows it exists before the
    first address does, so two first addresses (or a 20th and a 21st) added at once are
    serialised too."""
    list(User.objects.select_for_update().filter(pk=customer.pk).values_list("pk", flat=True))
    return list(Address.objects.filter(customer=customer).order_by("id"))


def _clean_label(label: Any) -> str:
    if label is None:
        return ""
    if not isinstance(label, str):
        raise ValidationFailed.for_field("label", "Must be text.", "invalid_type")
    label = " ".join(label.split())
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationFailed.for_field(
            "label", f"At most {LABEL_MAX_LENGTH} characters.", "too_long"
        )
    return label


def _clean(
    data: Mapping[str, Any], label: Any, errors: list[FieldError] | None = None
) -> tuple[AddressData, str]:
    """The address and its label, or one ``ValidationFailed`` naming every bad field
    (``errors`` found by the caller included)."""
    errors = list(errors or [])
    address: AddressData | None = None
    clean_label = ""
    try:
        address = clean_address(data)
    except ValidationFailed as error:
        errors += error.field_errors
    try:
        clean_label = _clean_label(label)
    except ValidationFailed as error:
        errors += error.field_errors
    if errors or address is None:
        detail = "; ".join(f"{error.field}: {error.message}" for error in errors[:5])
        raise ValidationFailed(detail, field_errors=errors)
    return address, clean_label


def _make_default(address: Address, book: list[Address]) -> None:
    """``address`` becomes the default; the previous default is unset first (the
    constraint allows one default per customer at any moment)."""
    others = [row.pk for row in book if row.is_default and row.pk != address.pk]
    if others:
        Address.objects.filter(pk__in=others).update(is_default=False)
    address.is_default = True


@transaction.atomic
def address_create(
    *, customer: User, data: Mapping[str, Any], label: str = "", is_default: bool = False
) -> Address:
    """Add a checked address to ``customer``'s book. The first address, or one added with
    ``is_default``, becomes the default.

    Raises ``ValidationFailed`` (every bad field, ``label`` included) and
    ``AddressLimitReached`` (409 ``address_limit_reached``) when the book already holds
    ``MAX_ADDRESSES``."""
    address_data, clean_label = _clean(data, label)
    book = _locked_book(customer)
    if len(book) >= MAX_ADDRESSES:
        raise AddressLimitReached(
            f"An address book holds at most {MAX_ADDRESSES} addresses; delete one first.",
            details={"limit": MAX_ADDRESSES},
        )
    address = Address(customer=customer, label=clean_label, **address_data.snapshot())
    if is_default or not book:
        _make_default(address, book)
    address.save()
    logger.info("address.created", address_id=address.pk, customer_id=customer.pk)
    return address


def _own(book: list[Address], address_id: int) -> Address:
    for address in book:
        if address.pk == address_id:
            return address
    raise NotFound("No such address.", code="address_not_found")


@transaction.atomic
def address_update(*, customer: User, address_id: int, data: Mapping[str, Any]) -> Address:
    """Change some fields of one of ``customer``'s addresses: ``data`` holds the changed
    address fields and optionally ``label`` and ``is_default`` (``true`` makes it the
    default; ``false`` is refused on the default — choose another default instead). The
    merged address is checked again as a whole.

    Raises ``NotFound`` (another customer's or no address) and ``ValidationFailed``."""
    book = _locked_book(customer)
    address = _own(book, address_id)
    merged = address.data.snapshot() | {k: v for k, v in data.items() if k in ADDRESS_FIELDS}
    is_default = data.get("is_default")
    errors = []
    if is_default is False and address.is_default:
        errors.append(
            FieldError(
                "is_default",
                "This is the default address; make another address the default instead.",
                "default_required",
            )
        )
    address_data, label = _clean(merged, data.get("label", address.label), errors)
    for name, value in address_data.snapshot().items():
        setattr(address, name, value)
    address.label = label
    if is_default is True:
        _make_default(address, book)
    address.save()
    logger.info("address.updated", address_id=address.pk, customer_id=customer.pk)
    return address


@transaction.atomic
def address_delete(*, customer: User, address_id: int) -> None:
    """Remove one of ``customer``'s addresses. When it was the default, the most recently
    added remaining address becomes the default. Raises ``NotFound``."""
    book = _locked_book(customer)
    address = _own(book, address_id)
    address.delete()
    if address.is_default:
        rest = [row for row in book if row.pk != address_id]
        if rest:
            newest = max(rest, key=lambda row: (row.created_at, row.pk))
            Address.objects.filter(pk=newest.pk).update(is_default=True)
    logger.info("address.deleted", address_id=address_id, customer_id=customer.pk)
