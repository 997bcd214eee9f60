"""Prometheus metrics of every process: the API server's workers, task workers, the
scheduler and the outbox relay.

**Multiprocess mode.** With ``PROMETHEUS_MULTIPROC_DIR`` in the environment when a process
starts (prometheus_client reads it on import), every process writes its samples to files
of its own in that directory, and a scrape aggregates the files of all of them
(prometheus_client's ``MultiProcessCollector``): ``/metrics`` of any API server process
shows the counters of every process that shares the directory — its sibling server
workers, and the task workers, scheduler and relay of the same machine or container.
Without it each process keeps its metrics in memory and ``/metrics`` shows only the
serving process' own. A process that has no HTTP server of its own (a task worker in a
pod of its own) serves the directory on ``METRICS_PORT`` (:func:`start_metrics_server`).

At start each process removes the live-gauge files of processes that have died
(:func:`remove_dead_process_files`); counters and histograms of dead processes stay, so
totals never go down. The directory starts empty with its container (an ``emptyDir`` on
Kubernetes, ``/tmp`` of a Compose container, wiped by ``make run``).
"""

from __future__ import annotations

import atexit
import hmac
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

logger = structlog.get_logger(__name__)

TASKS_ENQUEUED = Counter("fashionistar_tasks_enqueued_total", "Tasks enqueued", ["task", "queue"])
TASKS_STARTED = Counter(
    "fashionistar_tasks_started_total", "Task attempts started by a worker", ["task", "queue"]
)
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

# psycopg's connection pool of each process (none behind PgBouncer in transaction mode).
# In multiprocess mode each live process reports its own series (label `pid`).
_POOL_LABELS = ["alias", "process"]
DB_POOL_CONNECTIONS = Gauge(
    "fashionistar_db_pool_connections",
    "Connections the process' database pool holds (in use and idle)",
    _POOL_LABELS,
    multiprocess_mode="liveall",
)
DB_POOL_AVAILABLE = Gauge(
    "fashionistar_db_pool_available",
    "Idle connections ready in the process' database pool",
    _POOL_LABELS,
    multiprocess_mode="liveall",
)
DB_POOL_WAITING = Gauge(
    "fashionistar_db_pool_waiting",
    "Callers waiting for a connection from the process' database pool",
    _POOL_LABELS,
    multiprocess_mode="liveall",
)
DB_POOL_MAX = Gauge(
    "fashionistar_db_pool_max",
    "Most connections the process' database pool may open",
    _POOL_LABELS,
    multiprocess_mode="liveall",
)

#: What this process is (api, worker, scheduler, relay): the `process` label of its gauges.
role = "other"
POOL_SAMPLE_SECONDS = 10.0
_PID_FILE = re.compile(r"_(\d+)\.db$")


def multiprocess_directory() -> str | None:
    """The directory this process writes its samples to, or None (in-memory metrics)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- the database pools -----------------------------------------------------------------


def database_pools() -> dict[str, Any]:
    """The psycopg pools this process has opened, by database alias."""
    from django.db import connections

    found: dict[str, Any] = {}
    for alias in connections:
        pools = getattr(type(connections[alias]), "_connection_pools", None) or {}
        if alias in pools:
            found[alias] = pools[alias]
    return found


def record_pool_stats() -> None:
    """Copy each pool's current size, idle connections and waiters into the gauges."""
    for alias, pool in database_pools().items():
        stats = pool.get_stats()
        DB_POOL_CONNECTIONS.labels(alias, role).set(stats.get("pool_size", 0))
        DB_POOL_AVAILABLE.labels(alias, role).set(stats.get("pool_available", 0))
        DB_POOL_WAITING.labels(alias, role).set(stats.get("requests_waiting", 0))
        DB_POOL_MAX.labels(alias, role).set(stats.get("pool_max", 0))


def _sample_pools_forever(stop: threading.Event) -> None:
    # The first sample soon after start (once the process has opened its pool).
    delay = 1.0
    while not stop.wait(delay):
        delay = POOL_SAMPLE_SECONDS
        try:
            record_pool_stats()
        except Exception:
            logger.exception("metrics.pool_sample_failed")


# --- multiprocess files -----------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_process_files(directory: str) -> list[int]:
    """``mark_process_dead`` for every process that left files in ``directory`` and no
    longer runs: its live gauges (pool usage) disappear. Returns their pids."""
    pids = {
        int(match.group(1))
        for path in Path(directory).glob("*.db")
        if (match := _PID_FILE.search(path.name))
    }
    dead = sorted(pid for pid in pids if pid != os.getpid() and not _alive(pid))
    for pid in dead:
        mark_process_dead(pid, directory)
    return dead


def process_registry(directory: str | None) -> CollectorRegistry:
    """What the processes sharing ``directory`` counted (its files aggregated), or this
    process' own registry without one."""
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return registry


# --- process start -----------------------------------------------------------------------


def start(process_role: str, *, metrics_port: int | None, token: str) -> None:
    """Once per process, before it works: its role, dead processes' files cleaned, the
    pool sampler (multiprocess mode) and, for processes without an HTTP server of their
    own, the metrics port."""
    global role
    role = process_role
    directory = multiprocess_directory()
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        dead = remove_dead_process_files(directory)
        if dead:
            logger.info("metrics.dead_processes_removed", pids=dead)
        pid = os.getpid()
        atexit.register(mark_process_dead, pid, directory)
        stop = threading.Event()
        threading.Thread(
            target=_sample_pools_forever, args=(stop,), name="metrics-pool-sampler", daemon=True
        ).start()
    if metrics_port:
        start_metrics_server(metrics_port, token=token, directory=directory)


# --- the metrics port (processes without an HTTP server) -----------------------------------


def token_matches(authorization: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


UNAUTHORIZED_BODY = (
    b'{"type": "https://fashionistar.dev/problems/metrics-token-required",'
    b' "title": "Unauthorized", "status": 401,'
    b' "detail": "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.",'
    b' "code": "metrics_token_required"}'
)


def metrics_wsgi_app(
    registry: CollectorRegistry, *, token: str
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """prometheus_client's WSGI exposition behind the bearer token (when one is set)."""
    from prometheus_client import make_wsgi_app

    exposition = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if token and not token_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "application/problem+json"),
                    ("WWW-Authenticate", 'Bearer realm="metrics"'),
                ],
            )
            return [UNAUTHORIZED_BODY]
        try:
            record_pool_stats()
        except Exception:
            logger.exception("metrics.pool_sample_failed")
        result: Iterable[bytes] = exposition(environ, start_response)
        return result

    return app


def start_metrics_server(
    port: int, *, token: str, directory: str | None
) -> ThreadingWSGIServer | None:
    """Serve this process' metrics (or, in multiprocess mode, the directory's) on ``port``
    from a daemon thread. When another process of the container already serves the port,
    that one serves the shared directory: log it and carry on (None)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    app = metrics_wsgi_app(process_registry(directory), token=token)
    try:
        server = make_server("", port, app, ThreadingWSGIServer, handler_class=QuietHandler)
    except OSError as error:
        logger.warning("metrics.port_unavailable", port=port, error=str(error))
        return None
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    logger.info("metrics.serving", port=port)
    return server
