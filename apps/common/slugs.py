"""Unique URL slugs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.text import slugify


def unique_slug(
    scope: QuerySet[Any],
    *,
    name: str,
    max_length: int,
    fallback: str,
    exclude_id: int | None = None,
) -> str:
    """A slug of ``name`` unused within ``scope`` (``name``, ``name-2``, ``name-3``, …)."""
    base = slugify(name)[:max_length] or fallback
    candidates = scope.filter(slug__startswith=base).exclude(pk=exclude_id or 0)
    taken = set(candidates.values_list("slug", flat=True))
    slug, counter = base, 2
    while slug in taken:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug
