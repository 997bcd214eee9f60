"""Payments of orders, the provider webhooks received, and refunds."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel


class Provider(models.TextChoices):
    PAYSTACK = "paystack", "Paystack"
    STRIPE = "stripe", "Stripe"
    SQUARE = "square", "Square"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    MISMATCH = "mismatch", "Amount or currency mismatch"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class Payment(BaseModel):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    reference = models.CharField(
        max_length=64, unique=True, help_text="Ours, sent to the provider."
    )
    provider_payment_id = models.CharField(max_length=128, blank=True, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    authorization_url = models.URLField(max_length=500, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    needs_refund = models.BooleanField(
        default=False,
        help_text="Money arrived for an order that can no longer take it (cancelled, "
        "expired or already paid): refund it.",
    )
    needs_refund_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            # Starting a payment twice for one order and provider reuses the pending one.
            models.UniqueConstraint(
                fields=["order", "provider"],
                condition=Q(status="pending"),
                name="payment_one_pending_per_order_provider",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount")),
                name="payment_refunded_within_amount",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def refundable_amount(self) -> Decimal:
        return self.amount - self.refunded_amount


class WebhookEvent(models.Model):
    """A provider event, stored once: the unique (provider, event id) pair is what makes a
    redelivered webhook a no-op."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=32)
    raw_type = models.CharField(max_length=64)
    reference = models.CharField(max_length=128, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering: ClassVar = ["-received_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.raw_type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(BaseModel):
    """One refund of (part of) a payment. Its amount is reserved on the payment
    (``refunded_amount``) from the moment it is recorded until the provider says it
    failed. ``pending`` means the provider has not given a definite answer yet (the call
    is out, or it timed out): such a refund is asked about again with the same
    ``idempotency_key``, never sent as a new one."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider_refund_id = models.CharField(max_length=128, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="refunds"
    )
    store = models.ForeignKey(
        "vendors.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        help_text="The store whose part of the order this gives back (a return); empty: "
        "shared over the order's stores.",
    )
    idempotency_key = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Sent with every provider call for this refund (Stripe, Square), or "
        "looked for among the payment's refunds (Paystack): a repeat is never a second "
        "refund.",
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Provider calls made for this refund."
    )
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The provider is not asked again before this: a call is out, or its "
        "outcome is unknown and the provider may still be working on it.",
    )
    last_error = models.CharField(
        max_length=255, blank=True, help_text="Why the last call had no definite answer."
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="refund_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id}"
