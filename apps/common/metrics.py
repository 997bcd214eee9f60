"""Prometheus metrics shared by the API and the workers."""

from prometheus_client import Counter, Histogram

TASKS_ENQUEUED = Counter("fashionistar_tasks_enqueued_total", "Tasks enqueued", ["task", "queue"])
TASKS_FINISHED = Counter(
    "fashionistar_tasks_total",
    "Task attempts by outcome: succeeded, retried (failed, another attempt queued), failed",
    ["task", "queue", "outcome"],
)
REQUESTS = Histogram(
    "fashionistar_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
