"""Orders, their lines (a snapshot of what was bought, per vendor) and idempotency keys."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.common.models import BaseModel


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Awaiting payment"
    PAID = "paid", "Paid"
    PARTLY_SHIPPED = "partly_shipped", "Partly shipped"
    FULFILLED = "fulfilled", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


# The lifecycle: anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    # From here the status follows the shipments (``order_sync_with_shipments``).
    OrderStatus.PAID: frozenset(
        {OrderStatus.PARTLY_SHIPPED, OrderStatus.FULFILLED, OrderStatus.REFUNDED}
    ),
    OrderStatus.PARTLY_SHIPPED: frozenset({OrderStatus.FULFILLED, OrderStatus.REFUNDED}),
    OrderStatus.FULFILLED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


# Every status an order reaches once paid (refunded included): it was a sale.
PAID_OR_LATER = (
    OrderStatus.PAID,
    OrderStatus.PARTLY_SHIPPED,
    OrderStatus.FULFILLED,
    OrderStatus.DELIVERED,
    OrderStatus.REFUNDED,
)


class Order(BaseModel):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    order_number = models.CharField(max_length=20, unique=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    delivery_address = models.TextField(help_text="The address as one text.")
    shipping_address = models.JSONField(
        default=dict, blank=True, help_text="The structured address the order was placed with."
    )
    shipping_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Shipping of every store."
    )
    customer_notes = models.TextField(blank=True)
    reserved_until = models.DateTimeField(help_text="Unpaid past this, the order expires.")
    paid_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=32, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["customer", "-created_at", "-id"], name="order_customer_idx"),
            models.Index(fields=["status", "reserved_until"], name="order_status_hold_idx"),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(total_amount__gt=Decimal(0)), name="order_total_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.order_number


class VendorNetField(models.DecimalField[Decimal, Decimal]):
    """``line_total - commission_amount``, set every time the line is written — by
    ``save()`` and by ``bulk_create()`` alike (both call ``pre_save``, as for
    ``auto_now``). A stored column rather than a database-generated one: Django's checks
    of generated columns need a live database, which ``manage.py check`` must not."""

    def pre_save(self, model_instance: models.Model, add: bool) -> Decimal:
        value: Decimal = model_instance.line_total - model_instance.commission_amount  # type: ignore[attr-defined]
        setattr(model_instance, self.attname, value)
        return value


class OrderLine(models.Model):
    """One variant bought: names and prices are copied, so later catalogue edits do not
    rewrite history. ``store`` lets a vendor see exactly their lines. The commission is
    copied too (rate and amount, at placement): later rate changes never alter a line
    sold, and ``commission_amount + vendor_net == line_total`` by construction."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="order_lines"
    )
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="order_lines")
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    size = models.CharField(max_length=16)
    colour = models.CharField(max_length=40)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    commission_rate = models.DecimalField(
        "commission rate (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="The rate that applied when the line was sold (apps.payouts.commission).",
    )
    commission_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="The marketplace's part of the line total, in the order's currency.",
    )
    vendor_net = VendorNetField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="The store's part of the line total (line total - commission).",
    )

    class Meta:
        ordering: ClassVar = ["id"]
        indexes: ClassVar = [models.Index(fields=["store", "-id"], name="orderline_store_idx")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(commission_rate__gte=0, commission_rate__lte=100)
                & Q(commission_amount__gte=0, commission_amount__lte=F("line_total")),
                name="orderline_commission_within_total",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=1000), name="orderline_quantity_range"
            ),
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="orderline_total_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for one order creation, unique per customer. The
    unique constraint, not a lookup, is what stops two racing requests from both
    creating an order."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # Set in the same transaction that inserts the key; a committed key always has it.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, related_name="idempotency_keys"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["customer", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key
