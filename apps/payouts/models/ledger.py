"""The vendor ledger: append-only entries per store and currency, the balance they add up
to, and what each (order, store) pair earned."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.common.models import BaseModel

ZERO = Decimal("0.00")
# Balances add up many amounts: two digits more than an order's.
BALANCE_DIGITS = 14


def _money(**kwargs: object) -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(max_digits=BALANCE_DIGITS, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class EntryKind(models.TextChoices):
    SALE = "sale", "Sale"
    COMMISSION = "commission", "Commission"
    REFUND = "refund", "Refund"
    COMMISSION_REFUND = "commission_refund", "Commission returned on a refund"
    RELEASE = "release", "Hold ended"
    ADJUSTMENT = "adjustment", "Adjustment"
    PAYOUT = "payout", "Payout"
    PAYOUT_REVERSAL = "payout_reversal", "Payout reversed"


BUCKETS = ("pending", "available", "debt", "paid_out")


class StoreBalance(models.Model):
    """What the marketplace holds for a store in one currency, kept equal to the sum of
    the store's ledger entries in that currency (each entry is written with the row
    locked). ``pending``: earned, still held; ``available``: can be paid out; ``debt``:
    taken back after it was paid out (a refund), recovered from later earnings before
    anything becomes available again; ``paid_out``: sent to the vendor."""

    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=3)
    pending = _money(default=ZERO)
    available = _money(default=ZERO)
    debt = _money(default=ZERO)
    paid_out = _money(default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["store_id", "currency"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["store", "currency"], name="balance_one_per_currency"),
            models.CheckConstraint(
                condition=Q(pending__gte=0, available__gte=0, debt__gte=0, paid_out__gte=0),
                name="balance_never_negative",
            ),
            # A debt is paid back before anything is available again.
            models.CheckConstraint(
                condition=Q(available=0) | Q(debt=0), name="balance_available_or_debt"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.currency}"


class EarningStatus(models.TextChoices):
    HELD = "held", "Held (return window)"
    RELEASED = "released", "Released"
    REVERSED = "reversed", "Refunded before release"


class Earning(BaseModel):
    """A store's part of one paid order: its lines' totals and commissions (copied from the
    lines), how much of them refunds took back, and whether the hold has ended."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="earnings")
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="earnings")
    currency = models.CharField(max_length=3)
    gross = models.DecimalField(max_digits=12, decimal_places=2)
    commission = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_gross = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refunded_commission = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    status = models.CharField(
        max_length=16, choices=EarningStatus.choices, default=EarningStatus.HELD
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["order", "store"], name="earning_one_per_order_store"),
            models.CheckConstraint(
                condition=Q(commission__gte=0, commission__lte=F("gross"), gross__gt=0),
                name="earning_commission_within_gross",
            ),
            models.CheckConstraint(
                condition=Q(refunded_gross__gte=0, refunded_gross__lte=F("gross"))
                & Q(refunded_commission__gte=0, refunded_commission__lte=F("commission")),
                name="earning_refunds_within",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["store", "status"], name="earning_store_status_idx"),
            models.Index(
                fields=["order"], condition=Q(status="held"), name="earning_held_order_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} store {self.store_id}"

    @property
    def net_remaining(self) -> Decimal:
        """What the store is still owed for this part, after refunds."""
        return (self.gross - self.refunded_gross) - (self.commission - self.refunded_commission)


class LedgerEntry(models.Model):
    """One movement of a store's money, never changed or deleted. ``amount`` is the face
    value (what the statement shows: + credits the vendor, - debits); the four bucket
    columns say how it moved the balance, and ``*_after`` what the balance was then.
    ``key`` names the source (``sale:<earning>``, ``refund:<refund>:<store>``,
    ``payout:<payout>``…): unique, so a repeated or racing source is written once."""

    store = models.ForeignKey(
        "vendors.Store", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    key = models.CharField(max_length=120, unique=True)
    amount = _money()
    pending = _money(default=ZERO)
    available = _money(default=ZERO)
    debt = _money(default=ZERO)
    paid_out = _money(default=ZERO)
    pending_after = _money()
    available_after = _money()
    debt_after = _money()
    paid_out_after = _money()
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    earning = models.ForeignKey(
        Earning, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payout = models.ForeignKey(
        "payouts.Payout", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["id"]
        verbose_name_plural = "ledger entries"
        indexes: ClassVar = [
            models.Index(fields=["store", "currency", "id"], name="ledger_store_currency_idx"),
            models.Index(fields=["store", "created_at"], name="ledger_store_created_idx"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(
                    pending_after__gte=0,
                    available_after__gte=0,
                    debt_after__gte=0,
                    paid_out_after__gte=0,
                ),
                name="ledger_balance_never_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EntryKind.values), name="ledger_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.key})"
