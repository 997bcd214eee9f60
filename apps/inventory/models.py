"""Stock per variant and the ledger of every change to it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Stock(models.Model):
    """On hand and reserved units of one variant; available = on hand - reserved.

    The database refuses any row where reserved < 0 or reserved > on hand, so stock can
    never go negative whatever code writes it.
    """

    variant = models.OneToOneField(
        "catalog.Variant", on_delete=models.CASCADE, primary_key=True, related_name="stock"
    )
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("reserved")), name="stock_on_hand_covers_reserved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementReason(models.TextChoices):
    INITIAL = "initial", "Initial stock"
    RESTOCK = "restock", "Restock"
    CORRECTION = "correction", "Count correction"
    DAMAGED = "damaged", "Damaged or lost"
    RETURNED = "returned", "Customer return"
    RESERVED = "reserved", "Reserved for an order"
    RELEASED = "released", "Reservation released"
    SOLD = "sold", "Sold (reservation fulfilled)"


#: Reasons a vendor may give for a manual adjustment.
MANUAL_REASONS: tuple[str, ...] = (
    MovementReason.RESTOCK,
    MovementReason.CORRECTION,
    MovementReason.DAMAGED,
    MovementReason.RETURNED,
)


class StockMovement(models.Model):
    """One change of one variant's stock: how much, why, by whom, for which order.

    ``on_hand_after`` / ``reserved_after`` make the ledger checkable: replaying the deltas
    from zero gives the current row.
    """

    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.CASCADE, related_name="stock_movements"
    )
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    reason = models.CharField(max_length=16, choices=MovementReason.choices)
    note = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    # The orders domain links its reservations here (a plain id until that domain exists).
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["variant", "-id"])]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.reason} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"
