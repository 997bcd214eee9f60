"""Stores: each vendor user owns one; only approved stores sell."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel

DEFAULT_COMMISSION_RATE = Decimal("10.00")


class StoreStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    SUSPENDED = "suspended", "Suspended"


class Store(BaseModel):
    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="store"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=StoreStatus.choices, default=StoreStatus.PENDING
    )
    commission_rate = models.DecimalField(
        "commission rate (%)",
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_COMMISSION_RATE,
        help_text="Percentage of each sale the marketplace keeps.",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        indexes: ClassVar = [models.Index(fields=["status"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0) & Q(commission_rate__lte=100),
                name="store_commission_rate_0_100",
            ),
            models.CheckConstraint(
                condition=Q(status__in=StoreStatus.values), name="store_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == StoreStatus.APPROVED
