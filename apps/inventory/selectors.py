"""Reads on stock."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.common.errors import NotFound
from apps.inventory.models import Stock, StockMovement


def stock_get(*, variant_id: int) -> Stock:
    """The stock row of one variant. Raises ``NotFound``."""
    stock = Stock.objects.filter(variant_id=variant_id).first()
    if stock is None:
        raise NotFound("Variant not found.", code="variant_not_found")
    return stock


def stock_movement_list(*, variant_id: int) -> QuerySet[StockMovement]:
    """A variant's ledger, newest first."""
    return StockMovement.objects.filter(variant_id=variant_id).order_by("-id")
