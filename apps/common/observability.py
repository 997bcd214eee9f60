"""What every long-running process does first: metrics housekeeping and tracing.

Called by ``config/asgi.py`` (each API server process) and by ``run_worker``,
``run_scheduler`` and ``run_relay``. See ``docs/observability.md``.
"""

from __future__ import annotations

from django.conf import settings

from apps.common import metrics, tracing


def process_start(role: str) -> None:
    """``role`` is ``api``, ``worker``, ``scheduler`` or ``relay``. Processes other than
    the API server (which answers ``/metrics`` itself) serve their metrics on
    ``METRICS_PORT`` when it is set. Tracing starts when ``OTEL_EXPORTER_OTLP_ENDPOINT``
    is set."""
    metrics.start(
        role,
        metrics_port=None if role == "api" else settings.METRICS_PORT,
        token=settings.METRICS_TOKEN,
    )
    tracing.setup_from_environment(role)
