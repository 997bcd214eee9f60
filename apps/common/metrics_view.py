"""``/metrics``: Prometheus exposition of this process' metrics plus queue depth.

Queue depth (tasks ready to run, per queue) is read from the task backend at scrape
time; it is the signal the worker autoscaler follows.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.tasks import task_backends
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.common.outbox import backlog

logger = structlog.get_logger(__name__)


def queue_depths(alias: str = "default") -> dict[str, int]:
    backend = task_backends[alias]
    path = f"{type(backend).__module__}.{type(backend).__name__}"
    queues: list[str] = settings.TASK_QUEUES
    if path.startswith("django_tasks_db"):
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.ready()
            .filter(backend_name=alias)
            .values("queue_name")
            .annotate(n=Count("id"))
        )
        counted = {row["queue_name"]: row["n"] for row in rows}
        return {queue: counted.get(queue, 0) for queue in queues}
    if path.startswith("django_tasks_redis"):
        from django_tasks_redis.executor import get_pending_task_count

        return {
            queue: get_pending_task_count(queue_name=queue, backend_name=alias) for queue in queues
        }
    return {}


def _queue_depth_gauge() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "fashionistar_task_queue_depth", "Tasks ready to run, per queue", labels=["queue"]
    )


def _outbox_gauges() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "fashionistar_outbox_depth", "Outbox messages waiting to be sent or delivered"
        ),
        GaugeMetricFamily(
            "fashionistar_outbox_oldest_age_seconds", "Age of the oldest waiting outbox message"
        ),
    )


class QueueDepthCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Without describe() the registry calls collect() on registration, which would
        # query the task backend at import time (before migrations, in every command).
        yield _queue_depth_gauge()
        yield from _outbox_gauges()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = _queue_depth_gauge()
        try:
            depths = queue_depths()
        except Exception:
            logger.exception("metrics.queue_depth_failed")
            depths = {}
        for queue, depth in depths.items():
            gauge.add_metric([queue], depth)
        yield gauge
        depth_gauge, age_gauge = _outbox_gauges()
        try:
            waiting = backlog()
        except Exception:
            logger.exception("metrics.outbox_backlog_failed")
        else:
            depth_gauge.add_metric([], waiting["depth"])
            age_gauge.add_metric([], waiting["oldest_age_seconds"])
            yield depth_gauge
            yield age_gauge


REGISTRY.register(QueueDepthCollector())


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
