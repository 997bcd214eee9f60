"""Liveness and readiness probes.

``/health/live/`` answers 200 while the process can serve at all. ``/health/ready/``
checks what a request needs — the database, the cache (Redis when configured) and that
every migration is applied — and answers 503 naming the failing dependency otherwise. It
also reports the outbox backlog (waiting messages, oldest age) without failing on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers

from apps.common.db import in_thread
from apps.common.outbox import backlog

logger = structlog.get_logger(__name__)
_migrations_verified = False


def check_database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    cache = caches["default"]
    key = "health:ready"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just written")


def check_migrations() -> None:
    """Unapplied migrations mean this code would run against the wrong schema.

    Once verified, the answer stays true for the life of the process (migrations are
    applied before a release starts), so the probe stays cheap.
    """
    global _migrations_verified
    if _migrations_verified:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
        raise RuntimeError(f"{len(pending)} migration(s) not applied: {names}")
    _migrations_verified = True


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "migrations": check_migrations,
}


def run_checks() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and not results.get("database", {}).get("ok", True):
            results[name] = {"ok": False, "error": "not checked: database unavailable"}
            continue
        started = time.perf_counter()
        try:
            check()
        except Exception as error:
            logger.warning("health.check_failed", check=name, error=str(error))
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 2)
    return results


async def live(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"status": "ok"})
    add_never_cache_headers(response)
    return response


def outbox_backlog() -> dict[str, object]:
    """Reported, never failing the probe: a backlog drains once the task backend is back,
    and taking the API out of service would not drain it faster."""
    try:
        return dict(backlog())
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def ready_report() -> tuple[dict[str, dict[str, object]], dict[str, object] | None]:
    results = run_checks()
    waiting = outbox_backlog() if results.get("database", {}).get("ok") else None
    return results, waiting


async def ready(request: HttpRequest) -> JsonResponse:
    results, waiting = await in_thread(ready_report)
    healthy = all(result["ok"] for result in results.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable", "checks": results}
    if waiting is not None:
        body["outbox"] = waiting
    response = JsonResponse(body, status=200 if healthy else 503)
    add_never_cache_headers(response)
    return response
