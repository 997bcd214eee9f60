"""``/metrics``: Prometheus exposition of what the processes counted, plus the queues.

What the processes counted: in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) the files
of every process sharing the directory — the API server's workers, and the task
workers, scheduler and relay of the same machine or container — else this process' own
(``apps.common.metrics``). Read live at scrape time from the task backend and the
database: queue depth and the age of the oldest waiting task per queue (the worker
autoscaler follows the depth), and the outbox backlog.

With ``METRICS_TOKEN`` set (production requires it unless ``METRICS_PUBLIC=true``) a
scrape must send ``Authorization: Bearer <token>``; anything else is a 401 problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.tasks import task_backends
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.common import metrics as process_metrics
from apps.common.outbox import backlog
from apps.common.problems import problem_body, problem_response

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class QueueState:
    depth: int
    #: seconds the oldest ready task has waited (0 when none waits)
    oldest_age: float


def queue_states(alias: str = "default") -> dict[str, QueueState]:
    """Depth and oldest-task age of each queue of the ``alias`` task backend; empty for
    a backend without a queue (immediate)."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_redis import RedisTaskBackend

    backend = task_backends[alias]
    queues: list[str] = settings.TASK_QUEUES
    now = timezone.now()
    if isinstance(backend, DatabaseBackend):
        return _database_queue_states(alias, queues, now)
    if isinstance(backend, RedisTaskBackend):  # the Sentinel-aware backend included
        states = {}
        for queue in queues:
            stats = backend.get_queue_stats(queue_name=queue)
            since: datetime | None = stats["oldest_pending_waiting_since"]
            states[queue] = QueueState(stats["pending_count"], _age(now, since))
        return states
    return {}


def _database_queue_states(alias: str, queues: list[str], now: datetime) -> dict[str, QueueState]:
    from django.db.models import Case, Count, F, Min, When
    from django.db.models.functions import Greatest
    from django_tasks_db.models import DBTaskResult, get_date_max

    # A task waits from when it was enqueued, or from its run_after when deferred.
    waiting_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")),
        default=Greatest("enqueued_at", "run_after"),
    )
    rows = (
        DBTaskResult.objects.ready()
        .filter(backend_name=alias)
        .values("queue_name")
        .annotate(n=Count("id"), since=Min(waiting_since))
        .order_by()
    )
    found = {row["queue_name"]: QueueState(row["n"], _age(now, row["since"])) for row in rows}
    return {queue: found.get(queue, QueueState(0, 0.0)) for queue in queues}


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    return round(max((now - since).total_seconds(), 0.0), 3)


def queue_depths(alias: str = "default") -> dict[str, int]:
    return {queue: state.depth for queue, state in queue_states(alias).items()}


def all_queue_states() -> dict[str, QueueState]:
    """Per queue, over every task backend that has queues (production has one): the
    tasks ready to run, and the longest any of them has waited."""
    combined: dict[str, QueueState] = {}
    for alias in settings.TASKS:
        for queue, state in queue_states(alias).items():
            seen = combined.get(queue, QueueState(0, 0.0))
            combined[queue] = QueueState(
                seen.depth + state.depth, max(seen.oldest_age, state.oldest_age)
            )
    return combined


def _queue_gauges() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "fashionistar_task_queue_depth", "Tasks ready to run, per queue", labels=["queue"]
        ),
        GaugeMetricFamily(
            "fashionistar_task_queue_oldest_age_seconds",
            "How long the oldest task ready to run has waited, per queue (0 when none waits)",
            labels=["queue"],
        ),
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
        yield from _queue_gauges()
        yield from _outbox_gauges()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, age = _queue_gauges()
        try:
            states = all_queue_states()
        except Exception:
            logger.exception("metrics.queue_depth_failed")
            states = {}
        for queue, state in states.items():
            depth.add_metric([queue], state.depth)
            age.add_metric([queue], state.oldest_age)
        yield depth
        yield age
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


# Read at scrape time by the API only (a worker's metrics port does not repeat them).
LIVE = CollectorRegistry()
LIVE.register(QueueDepthCollector())


def exposition(directory: str | None) -> bytes:
    """The text exposition: the processes' metrics, then the live queue gauges."""
    try:
        process_metrics.record_pool_stats()
    except Exception:
        logger.exception("metrics.pool_sample_failed")
    return generate_latest(process_metrics.process_registry(directory)) + generate_latest(LIVE)


def unauthorized() -> HttpResponse:
    body = problem_body(
        status=401,
        code="metrics_token_required",
        detail="Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.",
    )
    return problem_response(body, {"WWW-Authenticate": 'Bearer realm="metrics"'})


def metrics(request: HttpRequest) -> HttpResponse:
    token: str = settings.METRICS_TOKEN
    if token and not process_metrics.token_matches(request.headers.get("Authorization", ""), token):
        return unauthorized()
    return HttpResponse(
        exposition(settings.PROMETHEUS_MULTIPROC_DIR or None), content_type=CONTENT_TYPE_LATEST
    )
