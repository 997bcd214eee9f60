from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.vendors.models import Store, StoreStatus
from apps.vendors.services import store_approve, store_suspend


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin[Store]):
    list_display = (
        "name",
        "slug",
        "owner",
        "status",
        "commission_rate",
        "approved_at",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("name", "slug", "owner__email")
    readonly_fields = ("approved_at", "created_at", "updated_at")
    raw_id_fields = ("owner",)
    actions = ("approve", "suspend")

    @admin.action(description="Approve the selected stores")
    def approve(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        pending = list(queryset.exclude(status=StoreStatus.APPROVED).values_list("pk", flat=True))
        actor: Any = request.user
        for store_id in pending:
            store_approve(store_id=store_id, actor=actor)
        self.message_user(request, f"Approved {len(pending)} store(s).", messages.SUCCESS)

    @admin.action(description="Suspend the selected stores")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Store]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        actor: Any = request.user
        for store_id in ids:
            store_suspend(store_id=store_id, actor=actor)
        self.message_user(request, f"Suspended {len(ids)} store(s).", messages.WARNING)
