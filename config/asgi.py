"""ASGI entry point (granian / uvicorn).

The APIs, health probes and metrics take the lean pipeline (``apps.common.pipeline``);
the admin and static files take Django's full middleware stack. With tracing on
(``OTEL_EXPORTER_OTLP_ENDPOINT``) OpenTelemetry's ASGI middleware wraps both, so every
request — on either path — gets its SERVER span; without it ``application`` is the
dispatcher itself.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# A request that cannot get a database connection within a second answers 503 with
# Retry-After (the database is down or saturated) instead of queueing; workers and
# commands keep the longer default of DATABASE_POOL_TIMEOUT.
os.environ.setdefault("DATABASE_POOL_TIMEOUT", "1")
site = get_asgi_application()

from apps.common import observability, tracing  # noqa: E402
from apps.common.pipeline import ApiASGIHandler, dispatch_by_path  # noqa: E402

observability.process_start("api")
dispatcher = dispatch_by_path(api=ApiASGIHandler(), site=site)
application = tracing.instrument_asgi(dispatcher)
