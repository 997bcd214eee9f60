"""OpenTelemetry tracing, on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

When it is not set, nothing of OpenTelemetry is imported and the hot paths pay one
``tracing.tracer is None`` check: ``config/asgi.py`` serves the application unwrapped,
enqueued tasks carry no trace context, task attempts start no span, log lines get no
trace ids.

When it is set, :func:`setup` (called once per process by
``apps.common.observability.process_start``) builds the SDK from the standard
``OTEL_*`` variables — the SDK itself reads the exporter's endpoint, headers, timeout and
compression, ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, the sampler
(``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``), the batch processor's limits
(``OTEL_BSP_*``) and the propagators (``OTEL_PROPAGATORS``); we only pick the OTLP
transport from ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``
(``http/protobuf`` by default, or ``grpc``) — and instruments:

* incoming HTTP: the ASGI application is wrapped in OpenTelemetry's ASGI middleware
  (a SERVER span per request, on the lean API pipeline and the full Django stack alike;
  the request id middleware names it after the route template and adds the request id);
* PostgreSQL (psycopg), Redis (redis-py, sync and asyncio) and outgoing httpx calls;
* background tasks: the W3C trace context of the enqueuing span travels in the task's
  ``_task_meta`` (through the outbox and any backend), and each attempt runs in a
  CONSUMER span, its child, named after the task.

Client spans (database, Redis, HTTP) with no parent — a worker polling its queue, the
relay looking for due messages — are dropped: traces start at a request or a task.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

#: The tracer of this process, or None while tracing is off (the only check hot paths make).
tracer: Tracer | None = None
_provider: TracerProvider | None = None
_current_span: Callable[[], Span] | None = None

DEFAULT_SERVICE_NAME = "fashionistar"
#: Paths whose requests start no trace (probes and scrapes every few seconds) unless
#: OTEL_PYTHON_ASGI_EXCLUDED_URLS / OTEL_PYTHON_EXCLUDED_URLS say otherwise.
DEFAULT_EXCLUDED_URLS = "/health/,/metrics$"


def configured() -> bool:
    """Whether the environment asks for traces: an OTLP endpoint is set and the SDK is
    not disabled (``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``)."""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not endpoint:
        return False
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"


def setup_from_environment(role: str) -> bool:
    """Turn tracing on for this process when :func:`configured`; True when it is on."""
    if tracer is None and configured():
        setup(role=role)
    return tracer is not None


def otlp_exporter() -> SpanExporter:
    """The OTLP span exporter for the configured protocol (it reads its own settings)."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    if protocol != "http/protobuf":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use http/protobuf or grpc")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def setup(
    *,
    role: str,
    exporter: SpanExporter | None = None,
    batch: bool = True,
    make_global: bool = True,
) -> TracerProvider:
    """Build the tracer provider and instrument the libraries.

    ``exporter`` defaults to OTLP; tests pass an in-memory one with ``batch=False`` (spans
    are exported as they end) and ``make_global=False`` (so :func:`teardown` can undo it).
    """
    global tracer, _provider, _current_span
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import _get_from_env_or_default

    if _provider is not None:
        teardown()
    resource = Resource.create({"fashionistar.process": role})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(
        resource=resource, sampler=cast(Any, _InsideWorkSampler(_get_from_env_or_default()))
    )
    span_exporter = exporter if exporter is not None else otlp_exporter()
    provider.add_span_processor(
        BatchSpanProcessor(span_exporter) if batch else SimpleSpanProcessor(span_exporter)
    )
    if make_global:
        trace.set_tracer_provider(provider)
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    RedisInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    _provider = provider
    _current_span = trace.get_current_span
    tracer = provider.get_tracer("fashionistar")
    return provider


def teardown() -> None:
    """Undo :func:`setup`: flush, uninstrument, and turn tracing off (tests)."""
    global tracer, _provider, _current_span
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    tracer = None
    _current_span = None
    for instrumentor in (PsycopgInstrumentor(), RedisInstrumentor(), HTTPXClientInstrumentor()):
        instrumentor.uninstrument()
    provider, _provider = _provider, None
    provider.shutdown()


class _InsideWorkSampler:
    """Drops client spans that have no parent, otherwise defers to the configured
    sampler (``OTEL_TRACES_SAMPLER``): work starts at a request or a task."""

    def __init__(self, delegate: Any) -> None:
        from opentelemetry.sdk.trace.sampling import Decision, SamplingResult
        from opentelemetry.trace import SpanKind, get_current_span

        self.delegate = delegate
        self._drop = SamplingResult(Decision.DROP)
        self._client = SpanKind.CLIENT
        self._parent_span = get_current_span

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> Any:
        if (
            kind == self._client
            and not self._parent_span(parent_context).get_span_context().is_valid
        ):
            return self._drop
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"InsideWork{{{self.delegate.get_description()}}}"


# --- HTTP ------------------------------------------------------------------------------


def instrument_asgi[App](app: App) -> App:
    """``app`` in OpenTelemetry's ASGI middleware when tracing is on, else ``app`` itself."""
    if _provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.util.http import parse_excluded_urls

    excluded = (
        os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS")
        or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
        or DEFAULT_EXCLUDED_URLS
    )
    wrapped: Any = OpenTelemetryMiddleware(
        app,
        tracer_provider=_provider,
        excluded_urls=parse_excluded_urls(excluded),
        default_span_details=_span_details,
        # No span per body chunk received or sent: one span per request.
        exclude_spans=["receive", "send"],
    )
    return cast(App, wrapped)


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # The raw path would make one span name per order id; the route template is known
    # once the URL resolves (server_span_route).
    return str(scope.get("method") or "HTTP"), {}


def server_span_route(method: str, route: str | None, request_id: str) -> None:
    """Name the current request's span ``METHOD /route/template`` and add the request id
    (called by the request id middleware when tracing is on)."""
    if _current_span is None:
        return
    span = _current_span()
    if not span.is_recording():
        return
    span.set_attribute("request_id", request_id)
    if route:
        template = route if route.startswith("/") else f"/{route}"
        span.update_name(f"{method} {template}")
        span.set_attribute("http.route", template)


# --- tasks -----------------------------------------------------------------------------


def inject(carrier: MutableMapping[str, Any]) -> None:
    """Write the current trace context (W3C ``traceparent``, ``tracestate``) into
    ``carrier`` — a task's ``_task_meta``."""
    from opentelemetry import propagate

    propagate.inject(carrier)


@contextmanager
def task_span(
    *, name: str, path: str, queue: str, task_id: str, attempt: int, meta: dict[str, Any]
) -> Iterator[None]:
    """A CONSUMER span for one attempt of a task, child of the span that enqueued it."""
    assert tracer is not None
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract({k: v for k, v in meta.items() if isinstance(v, str)})
    attributes: dict[str, str | int] = {
        "messaging.system": "django_tasks",
        "messaging.operation.type": "process",
        "messaging.destination.name": queue,
        "messaging.message.id": task_id,
        "code.function.name": path,
        "task.attempt": attempt,
    }
    if meta.get("request_id"):
        attributes["request_id"] = str(meta["request_id"])
    with tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ):
        yield


# --- logs ------------------------------------------------------------------------------


def add_trace_ids(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: ``trace_id`` and ``span_id`` of the current span, when there
    is one (hex, as trace back-ends show them)."""
    if _current_span is None:
        return event_dict
    context = _current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict
