"""Address books in the admin: read-only, searchable by customer, city and country.
Customers keep their own addresses through the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.addresses.models import Address


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin[Address]):
    list_display = (
        "recipient_name",
        "customer",
        "label",
        "city",
        "region",
        "country",
        "is_default",
        "created_at",
    )
    list_filter = ("country", "is_default")
    search_fields = ("customer__email", "city", "country", "recipient_name", "postal_code")
    list_select_related = ("customer",)
    ordering = ("-created_at",)
    readonly_fields = (
        "customer",
        "label",
        "recipient_name",
        "phone",
        "line1",
        "line2",
        "city",
        "region",
        "postal_code",
        "country",
        "is_default",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
