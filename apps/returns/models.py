"""Returns: a store's return policy, a customer's request to send back units of a
delivered parcel (for money or for another size or colour), and its lines."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.models import BaseModel


class ReturnPolicy(BaseModel):
    """A store's terms; a store without one has the marketplace's defaults."""

    store = models.OneToOneField(
        "vendors.Store", on_delete=models.CASCADE, related_name="return_policy"
    )
    window_days = models.PositiveSmallIntegerField(
        help_text="Days after delivery a customer may ask to return."
    )
    refund_shipping = models.BooleanField(
        default=False,
        help_text="Give the parcel's shipping back when every unit of it is returned for money.",
    )

    def __str__(self) -> str:
        return f"Return policy of {self.store}"


class ReturnReason(models.TextChoices):
    TOO_SMALL = "too_small", "Too small"
    TOO_LARGE = "too_large", "Too large"
    FIT = "fit_not_as_expected", "Fit not as expected"
    NOT_AS_PICTURED = "not_as_pictured", "Not as pictured"
    DAMAGED = "damaged_or_faulty", "Damaged or faulty"
    WRONG_ITEM = "wrong_item", "Wrong item"
    CHANGED_MIND = "changed_mind", "Changed my mind"


#: Reasons that say how the size fits (they become fit feedback).
SIZE_REASONS = {ReturnReason.TOO_SMALL: "runs_small", ReturnReason.TOO_LARGE: "runs_large"}


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved: send the items back"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled by the customer"
    EXPIRED = "expired", "Expired: the items never came back"
    RECEIVED = "received", "Received"
    CLOSED = "closed", "Closed: refunded and exchanged"


#: A request still holding its units (they cannot be asked for again).
OPEN_STATUSES = (
    ReturnStatus.REQUESTED,
    ReturnStatus.APPROVED,
    ReturnStatus.RECEIVED,
    ReturnStatus.CLOSED,
)


class ReturnRequest(BaseModel):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    shipment = models.ForeignKey(
        "shipping.Shipment", on_delete=models.PROTECT, related_name="returns"
    )
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="returns")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="returns"
    )
    status = models.CharField(
        max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED
    )
    decision_reason = models.CharField(max_length=255, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="The store did not act in time: staff look at it."
    )
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refund = models.OneToOneField(
        "payments.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_request",
    )
    exchange_shipment = models.OneToOneField(
        "shipping.Shipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchange_for",
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["store", "status"], name="return_store_status_idx"),
            models.Index(fields=["customer", "-created_at"], name="return_customer_idx"),
            models.Index(fields=["status", "created_at"], name="return_status_created_idx"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=ReturnStatus.values), name="return_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="return_refund_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Return {self.pk} of order {self.order_id} ({self.status})"


class ReturnLine(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines"
    )
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=ReturnReason.choices)
    note = models.CharField(max_length=500, blank=True)
    exchange_variant = models.ForeignKey(
        "catalog.Variant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Another size or colour instead of money (reserved when asked).",
    )
    received_sellable = models.PositiveIntegerField(default=0)
    received_damaged = models.PositiveIntegerField(default=0)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="returnline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["request", "order_line"], name="returnline_one_per_request_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"
