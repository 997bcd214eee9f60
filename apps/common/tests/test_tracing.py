"""Tracing: one trace from a shopper's checkout — the order request, the confirmation
task it enqueues, paying through the provider sandbox and the tasks that follow — with
the trace id on every log line of the requests and tasks, and nothing when tracing is off.

Requests go through the served ASGI application (``config.asgi``) wrapped as it is when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; spans land in an in-memory exporter.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connections
from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.authentication.services import ClientInfo, session_start
from apps.common import background, tracing
from apps.common.outbox import META
from apps.common.tests import sample_tasks
from apps.orders.models import Order
from apps.orders.tests.factories import ADDRESS, make_variant
from apps.payments.tests.conftest import payment_sandbox  # noqa: F401 (its fixture)
from apps.vendors.tests.factories import UserFactory
from config.asgi import dispatcher
from conftest import JsonLogs
from tools.sandbox import SandboxServer

# The served app runs each request's work on threads of its own: commit the data.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, its spans exported to memory as they end."""
    exporter = InMemorySpanExporter()
    if connections["default"].vendor == "postgresql":
        # A server process sets tracing up before its first connection; here the pool
        # already holds connections made without it.
        connections["default"].close()
        connections["default"].close_pool()  # type: ignore[attr-defined]
    tracing.setup(role="test", exporter=exporter, batch=False, make_global=False)
    try:
        yield exporter
    finally:
        tracing.teardown()


class Shopper:
    """A client of the served app that carries the W3C trace context of its own
    ``checkout`` span on every request, as an instrumented mobile app would."""

    def __init__(self) -> None:
        self.user = UserFactory.create()
        self.token = session_start(user=self.user, client=ClientInfo()).access
        self.app = tracing.instrument_asgi(dispatcher)
        self.trace_headers: dict[str, str] = {}

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **self.trace_headers}
        connections.close_all()  # like a server process: no connection on the event loop

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.post(path, json=body or {}, headers=headers)

        # A fresh context: the server sees the caller's trace only through the header.
        return contextvars.Context().run(asyncio.run, send())


def _by_id(exported: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in exported}


def _ancestors(span: ReadableSpan, index: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    while span.parent is not None and span.parent.span_id in index:
        span = index[span.parent.span_id]
        found.append(span)
    return found


def _one(exported: list[ReadableSpan], **match: Any) -> ReadableSpan:
    hits = [
        span
        for span in exported
        if all(
            (span.name if key == "name" else span.kind if key == "kind" else None) == value
            for key, value in match.items()
        )
    ]
    assert len(hits) == 1, (match, [span.name for span in exported])
    return hits[0]


def test_a_checkout_is_one_trace_from_the_order_request_through_its_tasks_and_provider_calls(
    spans: InMemorySpanExporter, json_logs: JsonLogs, request: pytest.FixtureRequest
) -> None:
    sandbox: SandboxServer = request.getfixturevalue("payment_sandbox")
    assert tracing.tracer is not None
    shopper = Shopper()
    variant = make_variant(stock=5, price="7500.00")

    with tracing.tracer.start_as_current_span("checkout") as checkout:
        propagate.inject(shopper.trace_headers)
        created = shopper.post(
            "/api/v2/orders/",
            {"items": [{"variant_id": variant.pk, "quantity": 1}], "delivery_address": ADDRESS},
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        started = shopper.post(f"/api/v2/orders/{order_id}/payments/", {"provider": "paystack"})
        assert started.status_code == 201, started.text
        payment = started.json()
        sandbox.pay("paystack", payment["reference"])
        verified = shopper.post(f"/api/v2/orders/{order_id}/payments/{payment['id']}/verify/")
        assert verified.status_code == 200, verified.text
    assert Order.objects.get(pk=order_id).status == "paid"

    exported = list(spans.get_finished_spans())
    index = _by_id(tuple(exported))
    trace_id = checkout.get_span_context().trace_id
    # one trace: every span of the checkout, requests, tasks and calls alike
    assert {span.context.trace_id for span in exported} == {trace_id}

    # the order request: a SERVER span named after its route, child of the caller's span
    order_request = _one(exported, name="POST /api/v2/orders/", kind=SpanKind.SERVER)
    assert order_request.parent is not None
    assert order_request.parent.span_id == checkout.get_span_context().span_id
    assert order_request.attributes is not None
    assert order_request.attributes["http.route"] == "/api/v2/orders/"
    assert order_request.attributes["request_id"] == created.headers["X-Request-ID"]

    # its task: a CONSUMER span named after the task, child of the request's span
    confirmation = _one(exported, name="send_order_confirmation", kind=SpanKind.CONSUMER)
    assert confirmation.parent is not None
    assert confirmation.parent.span_id == order_request.context.span_id
    assert confirmation.attributes is not None
    assert confirmation.attributes["messaging.destination.name"] == "emails"
    assert confirmation.attributes["request_id"] == created.headers["X-Request-ID"]

    # the provider calls: httpx CLIENT spans inside the payment requests
    start_request = _one(
        exported, name="POST /api/v2/orders/<order_id>/payments/", kind=SpanKind.SERVER
    )
    verify_request = _one(
        exported,
        name="POST /api/v2/orders/<order_id>/payments/<payment_id>/verify/",
        kind=SpanKind.SERVER,
    )
    calls = [
        span
        for span in exported
        if span.kind == SpanKind.CLIENT
        and span.attributes
        and str(span.attributes.get("url.full", span.attributes.get("http.url", ""))).startswith(
            sandbox.url
        )
    ]
    called_from = {_ancestors(call, index)[-2].name for call in calls}
    assert called_from == {start_request.name, verify_request.name}
    verify_calls = [call for call in calls if verify_request in _ancestors(call, index)]
    assert verify_calls, "the verify request asked the provider"

    # the paid order's tasks follow from the verify request
    receipt = _one(exported, name="send_payment_receipt", kind=SpanKind.CONSUMER)
    assert verify_request in _ancestors(receipt, index)

    def calls_to(system: str) -> list[ReadableSpan]:
        return [s for s in exported if s.attributes and s.attributes.get("db.system") == system]

    if connections["default"].vendor == "postgresql":
        queries = calls_to("postgresql")
        assert any(order_request in _ancestors(query, index) for query in queries)
        assert any(confirmation in _ancestors(query, index) for query in queries)
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        # authentication counts the request's rate limits in Redis
        assert any(order_request in _ancestors(call, index) for call in calls_to("redis"))

    # the log lines of the order request and of its task carry its request id and trace id
    lines = json_logs()
    request_id = created.headers["X-Request-ID"]
    finished = [
        line
        for line in lines
        if line["message"] == "request.finished" and line["path"] == "/api/v2/orders/"
    ]
    task_lines = [line for line in lines if line.get("task_name") == "send_order_confirmation"]
    assert finished and task_lines
    assert {"task.started", "task.succeeded"} <= {line["message"] for line in task_lines}
    for line in [*finished, *task_lines]:
        assert line["request_id"] == request_id, line
        assert line["trace_id"] == format(trace_id, "032x"), line
    assert finished[0]["span_id"] == format(order_request.context.span_id, "016x")
    assert {line["span_id"] for line in task_lines} == {
        format(confirmation.context.span_id, "016x")
    }


def test_the_trace_context_survives_the_stored_task_and_each_attempt_is_its_child(
    spans: InMemorySpanExporter,
) -> None:
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("enqueuing") as enqueuing:
        kwargs = background._with_meta({"a": 1})
    stored = json.loads(json.dumps(kwargs))  # what the outbox and a task backend keep
    assert stored[META]["traceparent"].split("-")[1] == format(
        enqueuing.get_span_context().trace_id, "032x"
    )

    sample_tasks.add.enqueue(2, 3, **{META: stored[META]})

    (attempt,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert attempt.name == "add"
    assert attempt.resource.attributes["service.name"] == "fashionistar"
    assert attempt.resource.attributes["fashionistar.process"] == "test"
    assert attempt.parent is not None
    assert attempt.parent.span_id == enqueuing.get_span_context().span_id
    assert attempt.context.trace_id == enqueuing.get_span_context().trace_id


def test_probes_and_scrapes_start_no_trace(spans: InMemorySpanExporter) -> None:
    shopper = Shopper()

    async def get(path: str) -> int:
        transport = httpx.ASGITransport(app=shopper.app, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return (await c.get(path)).status_code

    assert contextvars.Context().run(asyncio.run, get("/health/live/")) == 200
    assert contextvars.Context().run(asyncio.run, get("/metrics")) == 200
    assert spans.get_finished_spans() == ()
    assert contextvars.Context().run(asyncio.run, get("/api/v2/meta/")) == 200
    served = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert [span.name for span in served] == ["GET /api/v2/meta/"]


def test_client_calls_outside_a_request_or_task_start_no_trace(
    spans: InMemorySpanExporter, request: pytest.FixtureRequest
) -> None:
    sandbox: SandboxServer = request.getfixturevalue("payment_sandbox")
    with httpx.Client() as client:
        client.get(f"{sandbox.url}/")

    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("protocol", "module"),
    [
        (None, "opentelemetry.exporter.otlp.proto.http.trace_exporter"),
        ("http/protobuf", "opentelemetry.exporter.otlp.proto.http.trace_exporter"),
        ("grpc", "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"),
    ],
)
def test_the_otlp_protocol_variable_picks_the_exporter(
    monkeypatch: pytest.MonkeyPatch, protocol: str | None, module: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    if protocol:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    else:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)

    assert tracing.configured()
    assert type(tracing.otlp_exporter()).__module__ == module


def test_tracing_stays_off_without_an_endpoint_or_when_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert not tracing.configured()
    assert tracing.setup_from_environment("test") is False

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.configured()


def test_with_tracing_off_nothing_is_wrapped_carried_or_logged(json_logs: JsonLogs) -> None:
    assert tracing.tracer is None
    assert tracing.instrument_asgi(dispatcher) is dispatcher

    kwargs = background._with_meta({})
    sample_tasks.add.enqueue(1, 1)

    assert set(kwargs[META]) == {"attempt", "request_id"}
    assert all("trace_id" not in line for line in json_logs())
