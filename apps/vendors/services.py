"""Writes on stores: creation for a new vendor, profile updates, staff approval."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.authentication.models import Role, User
from apps.common.errors import Conflict, ValidationFailed
from apps.common.events import publish
from apps.common.slugs import unique_slug
from apps.vendors.events import StoreApproved, StoreCreated
from apps.vendors.models import Store, StoreStatus
from apps.vendors.selectors import store_get

logger = structlog.get_logger(__name__)

NAME_MAX_LENGTH = 120


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.for_field("name", "A store needs a name.", "required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed.for_field(
            "name", f"At most {NAME_MAX_LENGTH} characters.", "max_length"
        )
    if not slugify(name):
        raise ValidationFailed.for_field("name", "The name needs letters or digits.", "invalid")
    return name


def store_slug_unique(*, name: str, exclude_id: int | None = None) -> str:
    """A URL slug for ``name`` that no other store uses (``name``, ``name-2``, …)."""
    return unique_slug(
        Store.objects.all(), name=name, max_length=120, fallback="store", exclude_id=exclude_id
    )


@transaction.atomic
def store_create_for_vendor(*, user: User, name: str, description: str = "") -> Store:
    """Create the pending store of a new vendor.

    Registration as a vendor calls this; staff then approve the store. Raises
    ``ValidationFailed`` (bad name, user not a vendor) or ``Conflict`` (already owns one).
    """
    name = _clean_name(name)
    if user.role != Role.VENDOR:
        raise ValidationFailed.for_field("role", "Only vendors own stores.", "not_a_vendor")
    if Store.objects.filter(owner=user).exists():
        raise Conflict("This vendor already has a store.", code="store_exists")
    try:
        with transaction.atomic():
            store = Store.objects.create(
                owner=user, name=name, description=description, slug=store_slug_unique(name=name)
            )
    except IntegrityError as error:
        raise Conflict("This vendor already has a store.", code="store_exists") from error
    publish(StoreCreated(store_id=store.pk, owner_id=user.pk))
    logger.info("store.created", store_id=store.pk, owner_id=user.pk)
    return store


@transaction.atomic
def store_update(*, store: Store, data: dict[str, Any]) -> Store:
    """Change a store's profile (``name``, ``description``). Status and commission are
    staff decisions and are not accepted here. Raises ``ValidationFailed``."""
    fields: list[str] = []
    if "name" in data:
        store.name = _clean_name(data["name"])
        store.slug = store_slug_unique(name=store.name, exclude_id=store.pk)
        fields += ["name", "slug"]
    if "description" in data:
        store.description = str(data["description"] or "")
        fields.append("description")
    if fields:
        store.save(update_fields=[*fields, "updated_at"])
    return store


@transaction.atomic
def store_approve(*, store_id: int, actor: User | None) -> Store:
    """Approve a pending (or reinstate a suspended) store; its active products become
    visible. Approving an approved store changes nothing. Raises ``NotFound``."""
    store = store_get(store_id=store_id)
    store = Store.objects.select_for_update().get(pk=store.pk)
    if store.status == StoreStatus.APPROVED:
        return store
    store.status = StoreStatus.APPROVED
    store.approved_at = timezone.now()
    store.save(update_fields=["status", "approved_at", "updated_at"])
    publish(StoreApproved(store_id=store.pk, approved_by_id=actor.pk if actor else None))
    logger.info("store.approved", store_id=store.pk, actor_id=actor.pk if actor else None)
    return store


@transaction.atomic
def store_suspend(*, store_id: int, actor: User | None) -> Store:
    """Suspend a store: its products disappear from the catalogue. Raises ``NotFound``."""
    store = store_get(store_id=store_id)
    Store.objects.filter(pk=store.pk).update(
        status=StoreStatus.SUSPENDED, updated_at=timezone.now()
    )
    store.refresh_from_db()
    logger.info("store.suspended", store_id=store.pk, actor_id=actor.pk if actor else None)
    return store
