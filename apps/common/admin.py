from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django_tasks_redis import RedisTaskBackend

from apps.common.background import requeue_failed
from apps.common.models import FailedTask, OutboxMessage


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    """What waits to be sent: normally empty; a growing list means the task backend is
    unreachable (``last_error`` says why) and the relay keeps trying."""

    list_display = ("id", "kind", "path", "created_at", "available_at", "attempts", "last_error")
    list_filter = ("kind", "path")
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _uses_redis_tasks() -> bool:
    # The Sentinel-aware backend (apps.common.redis_sentinel) is django-tasks-redis too.
    backend = import_string(settings.TASKS["default"]["BACKEND"])
    return issubclass(backend, RedisTaskBackend)


# The Redis task browser reads the default backend's Redis queue: on any other default
# backend it has nothing to read and cannot open.
if not _uses_redis_tasks():
    from django_tasks_redis.models import RedisTask

    if admin.site.is_registered(RedisTask):
        admin.site.unregister(RedisTask)
