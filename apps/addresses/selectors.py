"""Reads on address books: a customer's own addresses only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.addresses.models import Address
from apps.common.errors import NotFound

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def address_list(*, customer_id: int) -> QuerySet[Address]:
    """The customer's addresses: the default first, then the newest."""
    return Address.objects.filter(customer_id=customer_id).order_by(
        "-is_default", "-created_at", "-id"
    )


def address_get(*, customer_id: int, address_id: int) -> Address:
    """One of the customer's addresses; any other id raises ``NotFound``
    (``address_not_found``), whoever it belongs to."""
    address = Address.objects.filter(customer_id=customer_id, pk=address_id).first()
    if address is None:
        raise NotFound("No such address.", code="address_not_found")
    return address


def address_default(*, customer_id: int) -> Address | None:
    """The customer's default address, if the book holds any."""
    return Address.objects.filter(customer_id=customer_id, is_default=True).first()


def address_data(address: Address) -> dict[str, Any]:
    """The customer-facing shape of an address (``AddressOut``)."""
    return {
        "id": address.pk,
        "label": address.label,
        "is_default": address.is_default,
        **address.data.snapshot(),
        "country_name": address.data.country_name,
        "text": address.data.one_line(),
        "created_at": address.created_at,
        "updated_at": address.updated_at,
    }


def address_page(
    *, customer_id: int, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    """One page of the customer's addresses (default first, then newest):
    ``{items, count, next_offset}``; ``limit`` is capped at ``MAX_PAGE_SIZE``."""
    limit = min(max(limit, 1), MAX_PAGE_SIZE)
    addresses = address_list(customer_id=customer_id)
    count = addresses.count()
    page = list(addresses[offset : offset + limit])
    return {
        "items": [address_data(address) for address in page],
        "count": count,
        "next_offset": offset + limit if offset + limit < count else None,
    }
