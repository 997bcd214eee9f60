"""The served ASGI application (config.asgi): API paths take the lean pipeline, and it
answers exactly what the full Django stack answers — same status, body and security
headers — while the hot reads cross into a sync thread once and the cache once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from apps.authentication.services import ClientInfo, session_start
from apps.orders.tests.factories import make_variant, place_order
from apps.vendors.tests.factories import StoreFactory, UserFactory, VendorFactory
from config.asgi import application

# The served app runs each request in a thread of its own: its reads must see committed
# rows, so these tests commit their data.
pytestmark = pytest.mark.django_db(transaction=True)

SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Content-Security-Policy",
    "Cross-Origin-Opener-Policy",
)


class Served:
    """Requests through the ASGI application as granian would send them, counting the
    thread hops each one makes (work handed from the event loop to a thread — what
    ``sync_to_async`` does too) and the threads started."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hops = 0
        self.threads_started = 0
        hand_off = asyncio.BaseEventLoop.run_in_executor
        start = threading.Thread.start

        def counting_hop(loop: asyncio.BaseEventLoop, *args: Any) -> Any:
            self.hops += 1
            return hand_off(loop, *args)

        def counting_start(thread: threading.Thread) -> None:
            self.threads_started += 1
            start(thread)

        monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", counting_hop)
        monkeypatch.setattr(threading.Thread, "start", counting_start)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # Like a server process, the event loop holds no database connection of its own.
        connections.close_all()
        self.hops = self.threads_started = 0

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(send())


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    yield Served(monkeypatch)
    connections.close_all()


def _bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_start(user=user, client=ClientInfo()).access}"}


def _without_request_id(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "request_id"}
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/products/{product}/",
        "/api/v2/products/?limit=5",
        "/api/v2/products/?size=NOPE",
        "/api/v2/products/999999999/",
        "/api/v2/categories/",
        "/api/v2/orders/{order}/",
        "/api/v2/orders/",
        "/api/v1/vendor/store/",
        "/api/v2/no-such-endpoint/",
        "/health/live/",
    ],
)
def test_the_served_api_answers_like_the_full_stack(served: Served, path: str) -> None:
    product = make_variant().product
    customer = UserFactory.create()
    order = place_order(customer=customer)
    url = path.format(product=product.pk, order=order.pk)
    headers = _bearer(customer)

    lean = served.request("GET", url, headers=headers)
    full = Client().get(url, headers=headers)

    assert lean.status_code == full.status_code
    assert lean.headers["Content-Type"] == full["Content-Type"]
    if full["Content-Type"].endswith("json"):
        assert _without_request_id(lean.json()) == _without_request_id(full.json())
    for header in SECURITY_HEADERS:
        assert lean.headers.get(header) == full.get(header), header
    assert lean.headers["X-Request-ID"]


def test_a_path_without_its_slash_is_redirected_like_the_full_stack(served: Served) -> None:
    lean = served.request("GET", "/api/v2/categories")

    assert lean.status_code == Client().get("/api/v2/categories").status_code
    assert lean.status_code in {301, 308}
    assert lean.headers["Location"].endswith("/api/v2/categories/")


def test_an_unknown_host_is_refused(served: Served) -> None:
    response = served.request("GET", "/api/v2/categories/", headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_a_wrong_method_is_a_problem_document(served: Served) -> None:
    response = served.request("DELETE", "/api/v2/categories/")

    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"


@pytest.mark.parametrize("signed_in", [False, True])
def test_hot_reads_cross_into_a_sync_thread_once(served: Served, signed_in: bool) -> None:
    # Middleware, authentication, throttling, logging, metrics and the request signals
    # run on the event loop; only the selector's one call touches sync code.
    product = make_variant().product
    customer = UserFactory.create()
    order = place_order(customer=customer)
    headers = _bearer(customer) if signed_in else {}

    for path in (f"/api/v2/products/{product.pk}/", "/api/v2/products/", "/api/v2/categories/"):
        assert served.request("GET", path, headers=headers).status_code == 200
        assert served.hops == 1, path
    if signed_in:
        assert served.request("GET", f"/api/v2/orders/{order.pk}/", headers=headers).is_success
        assert served.hops == 1


def test_reads_reuse_threads_and_hand_their_connection_back(served: Served) -> None:
    # Each request's one hop runs on a pooled thread and hands its connection back: a
    # hundred requests neither start a thread each (the pool grows to its bound at most)
    # nor keep a connection.
    product = make_variant().product
    started = 0

    for _ in range(100):
        assert served.request("GET", f"/api/v2/products/{product.pk}/").status_code == 200
        started += served.threads_started

    assert started <= settings.API_SYNC_THREADS < 100

    assert all(conn.connection is None for conn in connections.all(initialized_only=True))


def test_v1_requests_hand_their_connection_back(served: Served) -> None:
    # A v1 view runs on a thread of its own: its connection goes back to the pool when the
    # request ends, so more requests than the pool holds are all served (not 503).
    vendor = VendorFactory.create()
    StoreFactory.create(owner=vendor)
    headers = _bearer(vendor)
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool") or {}

    statuses = [
        served.request("GET", "/api/v1/vendor/store/", headers=headers).status_code
        for _ in range(int(pool.get("max_size", 20)) + 5)
    ]

    assert set(statuses) == {200}


@pytest.fixture
def redis_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Redis command batch sent, named by client kind; a blocking call made on the
    event loop's thread is named ``BLOCKING ON THE LOOP``."""
    import redis
    import redis.asyncio

    calls: list[str] = []

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def count(cls: type, name: str, label: str) -> None:
        original = getattr(cls, name)
        if asyncio.iscoroutinefunction(original):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                calls.append(label)
                return await original(*args, **kwargs)
        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                calls.append("BLOCKING ON THE LOOP" if on_loop() else label)
                return original(*args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    count(redis.asyncio.client.Pipeline, "execute", "async pipeline")
    count(redis.asyncio.Redis, "execute_command", "async command")
    count(redis.client.Pipeline, "execute", "sync pipeline")
    count(redis.Redis, "execute_command", "sync command")
    return calls


@pytest.mark.redis
def test_a_signed_in_read_makes_one_redis_round_trip(
    served: Served, redis_calls: list[str]
) -> None:
    # The revocation check and the rate limit share one pipelined round trip.
    customer = UserFactory.create()
    order = place_order(customer=customer)
    headers = _bearer(customer)
    redis_calls.clear()

    response = served.request("GET", f"/api/v2/orders/{order.pk}/", headers=headers)

    assert response.status_code == 200
    assert redis_calls == ["async pipeline"]


@pytest.mark.redis
def test_public_operations_never_block_the_event_loop_on_redis(
    served: Served, redis_calls: list[str]
) -> None:
    product = make_variant().product
    user = UserFactory.create()
    login = {"email": user.email, "password": "not-the-password"}

    responses = [
        served.request("GET", f"/api/v2/products/{product.pk}/"),
        served.request("GET", "/api/v2/meta/"),
        served.request("POST", "/api/v2/auth/login/", json=login),
    ]

    assert [r.status_code for r in responses] == [200, 200, 401]
    assert "BLOCKING ON THE LOOP" not in redis_calls
    # Each request counted its limits in one round trip; sign-in counts two limits.
    assert redis_calls.count("async pipeline") == 3


# --- request body limits ------------------------------------------------------------------


def _assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "body_too_large"
    assert response.json()["limit"] == limit
    assert response.headers["X-Request-ID"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path", ["/api/v2/auth/login/", "/api/v1/vendor/products/", "/api/v2/orders/"]
)
def test_a_body_over_the_limit_is_refused_before_it_is_read(served: Served, path: str) -> None:
    oversize = b'{"email": "' + b"a" * (settings.API_MAX_BODY_BYTES + 1) + b'"}'

    response = served.request(
        "POST", path, content=oversize, headers={"Content-Type": "application/json"}
    )

    _assert_too_large(response, settings.API_MAX_BODY_BYTES)


def test_a_chunked_body_is_cut_off_at_the_limit(served: Served) -> None:
    def chunks() -> Any:
        for _ in range(3):
            yield b"x" * (settings.API_MAX_BODY_BYTES // 2 + 1)

    async def stream() -> Any:
        for chunk in chunks():
            yield chunk

    response = served.request("POST", "/api/v2/auth/login/", content=stream())

    _assert_too_large(response, settings.API_MAX_BODY_BYTES)


def test_webhooks_have_their_own_limit(served: Served) -> None:
    limit = settings.API_MAX_WEBHOOK_BODY_BYTES
    within = b'{"event": "' + b"x" * (limit - 100) + b'"}'
    over = b'{"event": "' + b"x" * limit + b'"}'

    accepted = served.request("POST", "/api/v2/webhooks/paystack/", content=within)
    refused = served.request("POST", "/api/v2/webhooks/paystack/", content=over)

    assert accepted.status_code == 400  # read, then refused for its (missing) signature
    assert accepted.json()["code"] == "invalid_signature"
    _assert_too_large(refused, limit)


def test_a_body_within_the_limit_is_served(served: Served) -> None:
    response = served.request(
        "POST",
        "/api/v2/auth/login/",
        json={"email": "a@example.com", "password": "x" * 100, "pad": "y" * 100_000},
    )

    assert response.status_code == 401


# --- hostile input ------------------------------------------------------------------------

NESTED = "[" * 5000 + "]" * 5000
HUGE = 2**70


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field"),
    [
        (None, "GET", "/api/v2/products/?q=silk%00", None, "q"),
        (None, "GET", "/api/v2/products/?brand=%01Adire", None, "brand"),
        (None, "GET", "/api/v2/products/?colour=Na%00vy&size=M", None, "colour"),
        (None, "GET", "/api/v2/categories/?x%00=1", None, "query"),
        ("customer", "GET", "/api/v2/orders/?status=pa%00id", None, "status"),
        ("vendor", "GET", "/api/v1/vendor/order-lines/?status=%00", None, "status"),
        (
            None,
            "POST",
            "/api/v2/auth/login/",
            '{"email": "a\\u0000@x.io", "password": "p"}',
            "email",
        ),
        (
            None,
            "POST",
            "/api/v2/auth/register/",
            '{"email": "b@x.io", "password": "a-Strong-pass-9", "full_name": "Ada\\u0000"}',
            "full_name",
        ),
        (
            "customer",
            "POST",
            "/api/v2/orders/",
            f'{{"items": [{{"variant_id": {HUGE}, "quantity": 1}}], '
            '"delivery_address": "12 Admiralty Way, Lagos"}',
            "items.0.variant_id",
        ),
        (
            "customer",
            "POST",
            "/api/v2/orders/",
            '{"items": [{"variant_id": 1, "quantity": 1}], '
            '"delivery_address": "12 Admiralty\\u0000 Way"}',
            "delivery_address",
        ),
        ("vendor", "POST", "/api/v1/vendor/products/", '{"name": "Shirt\\u0007"}', "name"),
        ("vendor", "POST", "/api/v1/vendor/products/", NESTED, "body"),
        (None, "POST", "/api/v2/auth/login/", NESTED, "body"),
    ],
)
def test_hostile_input_is_a_422_naming_the_field(
    served: Served, who: str | None, method: str, path: str, body: str | None, field: str
) -> None:
    headers = {"Content-Type": "application/json"}
    if who == "customer":
        headers.update(_bearer(UserFactory.create()))
    elif who == "vendor":
        vendor = VendorFactory.create()
        StoreFactory.create(owner=vendor)
        headers.update(_bearer(vendor))

    response = served.request(method, path, content=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/products/99999999999999999999999/",
        "/api/v2/products/?limit=99999999999999999999999",
        "/api/v2/products/?min_price=1e400",
        "/api/v2/products/?cursor=%FF%FE",
    ],
)
def test_out_of_range_values_in_paths_and_queries_are_4xx(served: Served, path: str) -> None:
    response = served.request("GET", path)

    assert response.status_code < 500, response.text
