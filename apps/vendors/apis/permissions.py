"""Who may call the vendor and staff endpoints of the v1 API."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.vendors.selectors import user_has_store


def _user(request: Request) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


class IsVendor(BasePermission):
    """A signed-in vendor who owns a store."""

    message = "Only vendors with a store may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _user(request)
        return bool(user and getattr(user, "is_vendor", False) and user_has_store(user=user))


class IsMarketplaceStaff(BasePermission):
    """Marketplace staff (the staff role, or admin access)."""

    message = "Only marketplace staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _user(request)
        return bool(user and getattr(user, "is_marketplace_staff", False))


class IsVendorOrStaff(BasePermission):
    """A vendor with a store, acting on that store, or staff acting on any store."""

    message = "Only vendors and marketplace staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return IsMarketplaceStaff().has_permission(request, view) or IsVendor().has_permission(
            request, view
        )
