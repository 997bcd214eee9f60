"""Address test data, written through the real service (checked and normalised)."""

from __future__ import annotations

from typing import Any

from apps.addresses.models import Address
from apps.addresses.services import address_create
from apps.authentication.models import User
from apps.vendors.tests.factories import UserFactory

LAGOS: dict[str, str] = {
    "recipient_name": "Ada Obi",
    "phone": "0803 123 4567",
    "line1": "12 Admiralty Way",
    "line2": "Lekki Phase 1",
    "city": "Lagos",
    "region": "Lagos",
    "postal_code": "106104",
    "country": "NG",
}


def make_address(*, customer: User | None = None, **fields: Any) -> Address:
    """An address in ``customer``'s book (a new customer's by default): a Lagos address
    with ``fields`` changed; ``label`` and ``is_default`` go to the service."""
    label = fields.pop("label", "")
    is_default = fields.pop("is_default", False)
    return address_create(
        customer=customer or UserFactory.create(),
        data=LAGOS | fields,
        label=label,
        is_default=is_default,
    )
