from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.common.background import requeue_failed
from apps.common.models import FailedTask


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin[FailedTask]):
    list_display = (
        "created_at",
        "task_path",
        "queue_name",
        "attempts",
        "permanent",
        "error_class",
        "requeued_at",
    )
    list_filter = (
        "queue_name",
        "permanent",
        "task_path",
        ("requeued_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("task_path", "error_message", "request_id")
    readonly_fields = [field.name for field in FailedTask._meta.fields]
    actions = ("requeue",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Re-queue the selected tasks (as a fresh first attempt)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        pending = queryset.filter(requeued_at__isnull=True)
        for failed in pending:
            requeue_failed(failed.pk)
        self.message_user(request, f"Re-queued {pending.count()} task(s).", messages.SUCCESS)
