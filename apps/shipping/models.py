"""Shipping methods (per store, or the marketplace's defaults), the shipment of each
store's part of an order, its history, and carriers' tracking pages."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.common.models import BaseModel


class ShippingMethod(BaseModel):
    """How a store sends parcels and what it charges. ``store`` empty: a marketplace
    default, offered by stores that define no method of their own."""

    store = models.ForeignKey(
        "vendors.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shipping_methods",
        help_text="Empty: a marketplace default for stores without methods of their own.",
    )
    name = models.CharField(max_length=80)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    free_above = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Free when the store's items in the order cost at least this.",
    )
    min_days = models.PositiveSmallIntegerField("estimated days (from)")
    max_days = models.PositiveSmallIntegerField("estimated days (to)")
    countries = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO 3166-1 alpha-2 codes served; empty: every country.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["price", "max_days", "id"]
        indexes: ClassVar = [
            models.Index(fields=["store", "is_active"], name="shipmethod_store_idx")
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(price__gte=0), name="shipmethod_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_above__isnull=True) | Q(free_above__gte=0),
                name="shipmethod_free_above_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_days__lte=F("max_days")), name="shipmethod_days_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price} {self.currency})"

    def serves(self, country: str) -> bool:
        return not self.countries or country in self.countries


class ShipmentStatus(models.TextChoices):
    AWAITING = "awaiting", "Awaiting packing"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    RETURNED = "returned", "Returned to sender"


# Forward moves a vendor (or the customer, or the scheduler, for delivery) may make.
SHIPMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    ShipmentStatus.AWAITING: frozenset({ShipmentStatus.PACKED, ShipmentStatus.SHIPPED}),
    ShipmentStatus.PACKED: frozenset({ShipmentStatus.SHIPPED}),
    ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED}),
    ShipmentStatus.DELIVERED: frozenset(),
    ShipmentStatus.RETURNED: frozenset(),
}


class DeliveryConfirmation(models.TextChoices):
    CUSTOMER = "customer", "Confirmed by the customer"
    VENDOR = "vendor", "Reported by the vendor"
    AUTOMATIC = "automatic", "Assumed after the delivery window"
    STAFF = "staff", "Set by staff"


class Shipment(BaseModel):
    """One store's part of one order: the shipping charged for it when the order was
    placed and, once the vendor sends it, the parcel's carrier, tracking and timeline."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    store = models.ForeignKey("vendors.Store", on_delete=models.PROTECT, related_name="shipments")
    method = models.ForeignKey(
        ShippingMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method_name = models.CharField(max_length=80)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2)
    min_days = models.PositiveSmallIntegerField(default=0)
    max_days = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.AWAITING
    )
    carrier = models.CharField(max_length=80, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    delivery_confirmed_by = models.CharField(
        max_length=16, choices=DeliveryConfirmation.choices, blank=True
    )
    is_exchange = models.BooleanField(
        default=False,
        help_text="Replacements for returned items: not part of the order's own status.",
    )

    class Meta:
        ordering: ClassVar = ["order_id", "id"]
        indexes: ClassVar = [
            models.Index(fields=["store", "status"], name="shipment_store_status_idx"),
            models.Index(fields=["status", "shipped_at"], name="shipment_status_shipped_idx"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["order", "store"],
                condition=Q(is_exchange=False),
                name="shipment_one_per_order_store",
            ),
            models.CheckConstraint(
                condition=Q(shipping_amount__gte=0), name="shipment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ShipmentStatus.values), name="shipment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ShipmentStatus.SHIPPED) | Q(shipped_at__isnull=False),
                name="shipment_shipped_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=ShipmentStatus.DELIVERED) | Q(delivered_at__isnull=False),
                name="shipment_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Shipment {self.pk} of order {self.order_id} ({self.status})"


class ShipmentChange(models.Model):
    """Every status change of a shipment: when, from what, by whom, and why (staff
    corrections carry a reason)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, help_text="vendor, customer, staff or automatic")
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["shipment_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Carrier(models.Model):
    """A carrier whose tracking page is known: ``{number}`` in the template becomes the
    tracking number, so customers get a link."""

    name = models.CharField(max_length=80, unique=True)
    tracking_url_template = models.CharField(
        max_length=300, help_text="https://… with {number} where the tracking number goes"
    )

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name
