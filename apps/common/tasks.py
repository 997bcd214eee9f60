"""Cross-cutting background tasks."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from apps.common.background import background_task
from apps.common.models import ScheduledRun, TaskReceipt

HEARTBEAT_KEY = "scheduler:heartbeat"


@background_task(queue="default", retries=1, backoff=(30,))
def housekeeping(*, scheduled_tick: int, keep_days: int = 7) -> dict[str, int]:
    """Record the scheduler's heartbeat and prune old bookkeeping.

    Idempotent: pruning what is already gone and rewriting the heartbeat change nothing.
    """
    cache.set(HEARTBEAT_KEY, scheduled_tick, timeout=None)
    cutoff = timezone.now() - timedelta(days=keep_days)
    pruned_runs, _ = ScheduledRun.objects.filter(claimed_at__lt=cutoff).delete()
    pruned_receipts, _ = TaskReceipt.objects.filter(finished_at__lt=cutoff).delete()
    pruned_results = 0
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the database backend is always installed
        pass
    else:
        pruned_results, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return {
        "scheduled_runs": pruned_runs,
        "task_receipts": pruned_receipts,
        "task_results": pruned_results,
    }
