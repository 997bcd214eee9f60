"""Commission rates that override a store's own rate for a category of products."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel


class CommissionRule(BaseModel):
    """The marketplace's cut for products of ``category`` and of every category below it
    (the nearest rule up the tree wins), for one store or, with no store, for every store.
    A store's own rule beats the marketplace-wide one at the same category. Placing an
    order copies the rate that applied onto each line: changing a rule never changes a
    line already sold."""

    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, related_name="commission_rules"
    )
    store = models.ForeignKey(
        "vendors.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="commission_rules",
        help_text="Empty: every store.",
    )
    rate = models.DecimalField("commission rate (%)", max_digits=5, decimal_places=2)

    class Meta:
        ordering: ClassVar = ["category_id", "store_id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="commission_rule_rate_0_100"
            ),
            models.UniqueConstraint(
                fields=["category", "store"],
                condition=Q(store__isnull=False),
                name="commission_rule_one_per_store_category",
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(store__isnull=True),
                name="commission_rule_one_marketplace_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rate}% on {self.category_id} for {self.store_id or 'every store'}"
