from django.contrib import admin
from django.http import HttpRequest

from apps.inventory.models import Stock, StockMovement


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin[Stock]):
    """Stock is read here; changes go through a stock adjustment so the ledger records
    them."""

    list_display = ("variant", "on_hand", "reserved", "available", "updated_at")
    search_fields = ("variant__sku", "variant__product__name")
    list_select_related = ("variant",)
    readonly_fields = ("variant", "on_hand", "reserved", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Stock | None = None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin[StockMovement]):
    list_display = (
        "created_at",
        "variant",
        "reason",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "actor",
        "order_id",
    )
    list_filter = ("reason",)
    search_fields = ("variant__sku", "note")
    list_select_related = ("variant", "actor")
    readonly_fields = [f.name for f in StockMovement._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StockMovement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StockMovement | None = None) -> bool:
        return False
