"""Tasks run by the process-fault tests (importable by the worker processes they start).
Each one uses the database and the cache, as real tasks do, and records its run as a
line in a file that the test reads."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection

from apps.common.background import background_task
from apps.common.tests.sample_tasks import append


def _touch_services(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    cache.set(f"fault-probe:{key}", 1, timeout=60)


@background_task(queue="default")
def probe(log_path: str, key: str) -> None:
    """Idempotent: a second run appends the same key again, which the tests allow."""
    _touch_services(key)
    append(log_path, key)


@background_task(queue="default")
def scheduled_probe(log_path: str, *, scheduled_tick: int) -> None:
    """What a recurring job does: records the tick it was enqueued for."""
    _touch_services(str(scheduled_tick))
    append(log_path, str(scheduled_tick))
