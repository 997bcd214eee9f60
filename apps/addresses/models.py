"""A customer's address book: checked postal addresses, at most one of them the default."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.addresses.validation import MAX_LENGTHS, PHONE_MAX_LENGTH, AddressData
from apps.common.models import BaseModel

LABEL_MAX_LENGTH = 40


class Address(BaseModel):
    """One address of a customer's book, stored as ``clean_address`` normalised it."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, help_text='e.g. "Home"')
    recipient_name = models.CharField(max_length=MAX_LENGTHS["recipient_name"])
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, help_text="E.164, e.g. +2348031234567")
    line1 = models.CharField(max_length=MAX_LENGTHS["line1"])
    line2 = models.CharField(max_length=MAX_LENGTHS["line2"], blank=True)
    city = models.CharField(max_length=MAX_LENGTHS["city"])
    region = models.CharField(
        max_length=MAX_LENGTHS["region"], blank=True, help_text="State, county or province"
    )
    postal_code = models.CharField(max_length=MAX_LENGTHS["postal_code"], blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ("-is_default", "-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("customer",),
                condition=models.Q(is_default=True),
                name="address_one_default_per_customer",
            ),
        )
        indexes = (
            models.Index(fields=("customer", "-created_at"), name="address_customer_recent"),
        )
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return self.data.one_line()

    @property
    def data(self) -> AddressData:
        """The address itself, without the book's label and default flag."""
        return AddressData(
            recipient_name=self.recipient_name,
            phone=self.phone,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
        )
