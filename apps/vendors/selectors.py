"""Reads on stores."""

from __future__ import annotations

from typing import Any

from apps.common.errors import NotFound
from apps.vendors.models import Store


def store_get_for_owner(*, user: Any) -> Store:
    """The store ``user`` owns. Raises ``NotFound`` when they own none."""
    store = Store.objects.filter(owner_id=getattr(user, "pk", None)).first()
    if store is None:
        raise NotFound("You do not have a store.", code="store_not_found")
    return store


def store_get(*, store_id: int) -> Store:
    """One store by id. Raises ``NotFound``."""
    store = Store.objects.filter(pk=store_id).first() if 0 < store_id < 2**63 else None
    if store is None:
        raise NotFound("Store not found.", code="store_not_found")
    return store


def user_has_store(*, user: Any) -> bool:
    return Store.objects.filter(owner_id=getattr(user, "pk", None)).exists()
