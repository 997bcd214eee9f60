"""Where a store is paid (destinations), the payouts themselves, the runs that make them,
holds, and the record of what staff did."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel


class PayoutProvider(models.TextChoices):
    """Providers whose public API pays third parties. Square has none: Square stores are
    paid outside the system (docs/vendor-money.md)."""

    PAYSTACK = "paystack", "Paystack (transfer recipient)"
    STRIPE = "stripe", "Stripe (connected account)"


class DestinationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not verified yet"
    VERIFIED = "verified", "Verified with the provider"


class PayoutDestination(BaseModel):
    """A store's account at a provider: a Paystack transfer recipient code (``RCP_…``) or
    a Stripe connected account id (``acct_…``). A store has one active destination;
    registering another retires the previous one (kept for the payouts that used it).
    Only a destination the provider confirmed (``verified``) is paid."""

    store = models.ForeignKey(
        "vendors.Store", on_delete=models.PROTECT, related_name="payout_destinations"
    )
    provider = models.CharField(max_length=16, choices=PayoutProvider.choices)
    account_code = models.CharField(max_length=64)
    account_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(
        max_length=3, blank=True, help_text="The only currency it takes (empty: any)."
    )
    status = models.CharField(
        max_length=16, choices=DestinationStatus.choices, default=DestinationStatus.UNVERIFIED
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["store"], condition=Q(is_active=True), name="destination_one_active"
            ),
            models.CheckConstraint(
                condition=Q(provider__in=PayoutProvider.values), name="destination_provider_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.account_code}"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending (to be sent, or asked about again)"
    IN_TRANSIT = "in_transit", "Accepted by the provider"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed (money back in the balance)"
    REVERSED = "reversed", "Reversed by the provider (money back in the balance)"


OPEN_STATUSES = (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT)
FINAL_STATUSES = (PayoutStatus.FAILED, PayoutStatus.REVERSED)


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class PayoutRun(BaseModel):
    """One payout run: every store with enough available money gets one payout per
    currency. ``period_key`` is unique, so repeating a run (the scheduler's redelivery,
    a double click) finds the same run instead of paying again."""

    period_key = models.CharField(max_length=64, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    finished_at = models.DateTimeField(null=True, blank=True)
    payouts_created = models.PositiveIntegerField(default=0)
    stores_skipped = models.JSONField(
        default=dict, help_text="Store id → why it was not paid (on hold, no destination…)."
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.period_key


def _reference() -> str:
    # Lower-case letters, digits and dashes: what Paystack accepts as a transfer reference.
    return f"po-{uuid.uuid4().hex}"


class Payout(BaseModel):
    """Money sent to a store: debited from its available balance when created (so nothing
    can pay it twice), then sent through the provider under ``reference`` — the same for
    every attempt, which the provider uses to make one transfer of it whatever happens."""

    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    provider = models.CharField(max_length=16, choices=PayoutProvider.choices)
    destination = models.ForeignKey(
        PayoutDestination, on_delete=models.PROTECT, related_name="payouts"
    )
    reference = models.CharField(max_length=64, unique=True, default=_reference, editable=False)
    provider_transfer_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    run = models.ForeignKey(
        PayoutRun, on_delete=models.PROTECT, null=True, blank=True, related_name="payouts"
    )
    retry_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retried_by"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The provider is not asked again before this: a call is out, or its "
        "outcome is unknown and the provider may still be working on it.",
    )
    last_error = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            # Belt and braces under the balance lock: a store has at most one payout on
            # its way per currency.
            models.UniqueConstraint(
                fields=["store", "currency"],
                condition=Q(status__in=["pending", "in_transit"]),
                name="payout_one_open_per_store_currency",
            ),
            models.UniqueConstraint(
                fields=["run", "store", "currency"],
                condition=Q(run__isnull=False),
                name="payout_once_per_run_store_currency",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["status", "next_attempt_at"], name="payout_status_due_idx"),
            models.Index(fields=["store", "-created_at"], name="payout_store_created_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class PayoutHold(models.Model):
    """Staff stopped a store's payouts (a dispute, a review): runs skip it until released.
    Money keeps accruing; payouts already on their way are not recalled."""

    store = models.OneToOneField(
        "vendors.Store", on_delete=models.CASCADE, related_name="payout_hold"
    )
    reason = models.CharField(max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"hold on {self.store_id}"


class StaffActionKind(models.TextChoices):
    ADJUST = "adjust", "Ledger adjustment"
    HOLD = "hold", "Payouts held"
    RELEASE = "release", "Payouts released"
    RETRY = "retry", "Failed payout retried"
    RUN = "run", "Payout run started"


class StaffAction(models.Model):
    """Who did what to a store's money, and why: every adjustment, hold, release, retry and
    staff-started run, from the API or the admin."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=StaffActionKind.choices)
    store = models.ForeignKey(
        "vendors.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payout = models.ForeignKey(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        PayoutRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_id}"
