"""Rate limits: one shared-cache counter per client, the same on v1 and v2, refused with
429 problem+json and an integer Retry-After; atomic under concurrency, open when the cache
is down."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client, RequestFactory, override_settings
from pytest_django.fixtures import Settings
from rest_framework.request import Request
from rest_framework.test import APIClient

from apps.common.apis.throttles import DrfRateThrottle, NinjaAuthIpThrottle, NinjaRateThrottle
from apps.common.errors import RateLimited
from apps.common.http import client_ip
from apps.common.ratelimit import Rate, rate_for, rate_limit_consume, rate_limit_hit, rate_limit_key
from apps.vendors.tests.factories import StoreFactory
from conftest import JsonLogs

CATEGORIES = "/api/v2/categories/"
STORE = "/api/v1/vendor/store/"
# 10:15:00 UTC: 45 minutes are left of the hourly window.
MID_HOUR = datetime(2030, 3, 4, 10, 15, tzinfo=UTC)
HOUR_WINDOW = int(MID_HOUR.timestamp() // 3600)


@pytest.fixture
def tiny_limits(settings: Settings) -> None:
    settings.RATE_LIMITS = {
        "anon": "3/hour",
        "user": "3/hour",
        "auth_ip": "2/hour",
        "auth_account": "2/hour",
    }


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(MID_HOUR, tick=False) as traveller:
        yield traveller


def _assert_rate_limited(response: Any) -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == 429
    assert body["code"] == "rate_limited"
    retry_after = response["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 3600
    return int(retry_after)


# --- Rate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("100/hour", 100, 3600),
        ("1000/h", 1000, 3600),
        ("5/min", 5, 60),
        ("30/10m", 30, 600),
        ("10/15min", 10, 900),
        ("1/60s", 1, 60),
        ("20/day", 20, 86400),
        (" 7 / 2 Hours ", 7, 7200),
    ],
)
def test_rate_parses_requests_per_period(text: str, limit: int, period: int) -> None:
    assert Rate.parse(text) == Rate(limit=limit, period=period)


@pytest.mark.parametrize(
    "text", ["", "100", "100/", "/hour", "100/fortnight", "0/hour", "5/0m", "-1/h", "1.5/h"]
)
def test_rate_rejects_malformed_text_naming_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"invalid rate .*"):
        Rate.parse(text)


def test_rate_for_reads_the_settings_at_call_time(settings: Settings) -> None:
    settings.RATE_LIMITS = {"anon": "7/min"}

    assert rate_for("anon") == Rate(7, 60)


def test_identities_are_hashed_in_the_cache_key() -> None:
    key = rate_limit_key("auth_account", "ada@example.com", 42)

    assert "ada" not in key
    assert key.startswith("ratelimit:auth_account:")
    assert key.endswith(":42")


# --- the limiter ----------------------------------------------------------------------------


def test_consume_counts_and_refuses_past_the_limit(frozen: time_machine.Traveller) -> None:
    usages = [rate_limit_consume("t", "client", "2/hour") for _ in range(3)]

    assert [(u.count, u.allowed) for u in usages] == [(1, True), (2, True), (3, False)]
    assert {u.retry_after for u in usages} == {45 * 60}
    assert {u.limit for u in usages} == {2}


def test_hit_raises_rate_limited_with_retry_after(frozen: time_machine.Traveller) -> None:
    rate_limit_hit("t", "client", Rate(1, 60))

    with pytest.raises(RateLimited) as raised:
        rate_limit_hit("t", "client", Rate(1, 60))

    assert raised.value.status == 429
    assert raised.value.retry_after == 60
    assert raised.value.message == "Too many requests; try again in 60 seconds."


def test_the_window_resets_when_the_period_ends() -> None:
    with time_machine.travel(datetime(2030, 3, 4, 10, 59, 58, tzinfo=UTC), tick=False) as clock:
        assert rate_limit_consume("t", "client", "1/hour").allowed
        refused = rate_limit_consume("t", "client", "1/hour")
        assert not refused.allowed
        assert refused.retry_after == 2

        clock.shift(2)

        assert rate_limit_consume("t", "client", "1/hour").allowed


def _hammer(scope: str, *, threads: int, calls: int, limit: int) -> list[int]:
    """``threads`` threads each count ``calls`` requests on one key at once; returns every
    count the cache handed out."""
    barrier = threading.Barrier(threads)
    counts: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        mine = [
            rate_limit_consume(scope, "one-client", Rate(limit, 3600)).count for _ in range(calls)
        ]
        with lock:
            counts.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    return counts


def _assert_exact(counts: list[int], *, total: int, limit: int) -> None:
    # Every request got its own count: none lost, none doubled, exactly `limit` allowed.
    assert sorted(counts) == list(range(1, total + 1))
    assert sum(count <= limit for count in counts) == limit


def test_concurrent_requests_are_counted_exactly_once(frozen: time_machine.Traveller) -> None:
    counts = _hammer(f"conc-{uuid.uuid4().hex}", threads=20, calls=10, limit=50)

    _assert_exact(counts, total=200, limit=50)


@pytest.mark.redis
def test_concurrent_requests_are_counted_exactly_once_on_redis(
    frozen: time_machine.Traveller,
) -> None:
    redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "test-ratelimit",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    scope = f"conc-{uuid.uuid4().hex}"
    with override_settings(CACHES=redis):
        assert isinstance(caches["default"], RedisCache)
        try:
            counts = _hammer(scope, threads=20, calls=10, limit=50)
        finally:
            cache.delete(rate_limit_key(scope, "one-client", HOUR_WINDOW))

    _assert_exact(counts, total=200, limit=50)


_PROCESS_WORKER = """
import os, sys, threading
from datetime import datetime, UTC
import django
import time_machine

django.setup()
import redis.retry
from apps.common.ratelimit import Rate, rate_limit_consume

# Count the commands the Redis client sends once more after a connection failed: such a
# retry may count its request twice (its first answer was lost, not its INCR).
resent = []
_call_with_retry = redis.retry.Retry.call_with_retry

def counting_retries(self, do, fail, *args, **kwargs):
    def failed(error, *more):
        resent.append(repr(error))
        return fail(error, *more)
    return _call_with_retry(self, do, failed, *args, **kwargs)

redis.retry.Retry.call_with_retry = counting_retries

scope, threads, calls, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
time_machine.travel(datetime(2030, 3, 4, 10, 15, tzinfo=UTC), tick=False).start()
barrier = threading.Barrier(threads)
counts = []

def worker():
    barrier.wait()
    mine = [rate_limit_consume(scope, "one-client", Rate(limit, 3600)).count for _ in range(calls)]
    counts.extend(mine)

pool = [threading.Thread(target=worker) for _ in range(threads)]
print("ready", flush=True)
sys.stdin.readline()
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()
print("counts", " ".join(map(str, counts)), flush=True)
print("resent", len(resent), *resent, flush=True)
"""


@pytest.mark.redis
def test_processes_share_the_counters_on_redis() -> None:
    # Two API processes on one Redis: between them, exactly `limit` requests get through.
    scope = f"procs-{uuid.uuid4().hex}"
    args = [sys.executable, "-c", _PROCESS_WORKER, scope, "10", "10", "120"]
    children = [
        subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=20)[0] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        cache.delete(rate_limit_key(scope, "one-client", HOUR_WINDOW))
    assert all(child.returncode == 0 for child in children)
    # Log lines (a fail-open error, say) share stdout with the answer: read the answer only.
    answers = [line for output in outputs for line in output.splitlines()]
    counts = [
        int(count) for line in answers if line.startswith("counts") for count in line.split()[1:]
    ]
    assert len(counts) == 200, outputs
    resent = sum(int(line.split()[1]) for line in answers if line.startswith("resent"))

    if not resent:
        _assert_exact(counts, total=200, limit=120)
    else:
        # A connection failed under the run and a command went out again: that request may
        # have counted twice, but no two requests may ever share a count (that would be a
        # lost update), and no more than the re-sent commands can be missing.
        assert len(set(counts)) == 200, counts
        assert 0 not in counts and max(counts) <= 200 + resent, (counts, outputs)


def test_an_unreachable_cache_lets_requests_through_and_logs_an_error(
    client: Client, json_logs: JsonLogs, tiny_limits: None, db: None
) -> None:
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=down):
        statuses = [client.get(CATEGORIES).status_code for _ in range(5)]

    assert statuses == [200] * 5
    errors = [line for line in json_logs() if line["message"] == "ratelimit.cache_unavailable"]
    assert len(errors) == 5
    assert errors[0]["level"] == "error"
    assert errors[0]["scope"] == "anon"


# --- client address -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.1"),
        (1, None, "10.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    settings: Settings, proxies: int, forwarded: str | None, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = RequestFactory().get("/", headers=headers, REMOTE_ADDR="10.0.0.1")

    assert client_ip(request) == expected


# --- v2 (Ninja) -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_v2_refuses_the_fourth_anonymous_request(
    client: Client, tiny_limits: None, frozen: time_machine.Traveller
) -> None:
    for _ in range(3):
        assert client.get(CATEGORIES).status_code == 200

    response = client.get(CATEGORIES)

    assert _assert_rate_limited(response) == 45 * 60


@pytest.mark.django_db
def test_each_address_has_its_own_counter(client: Client, tiny_limits: None) -> None:
    for _ in range(3):
        assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.1").status_code == 200

    assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.2").status_code == 200
    _assert_rate_limited(client.get(CATEGORIES, REMOTE_ADDR="10.0.0.1"))


@pytest.mark.django_db
def test_forwarded_for_cannot_be_spoofed_without_a_trusted_proxy(
    client: Client, tiny_limits: None, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        response = client.get(CATEGORIES, headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 200

    _assert_rate_limited(client.get(CATEGORIES, headers={"X-Forwarded-For": "198.51.100.99"}))


@pytest.mark.django_db
def test_behind_one_proxy_the_forwarded_address_is_the_client(
    client: Client, tiny_limits: None, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.9"
    for _ in range(3):
        response = client.get(
            CATEGORIES, headers={"X-Forwarded-For": "203.0.113.7"}, REMOTE_ADDR=proxy
        )
        assert response.status_code == 200

    # Prepending a made-up address does not escape the limit: the proxy's entry counts.
    spoofed = client.get(
        CATEGORIES, headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}, REMOTE_ADDR=proxy
    )
    _assert_rate_limited(spoofed)
    other = client.get(CATEGORIES, headers={"X-Forwarded-For": "203.0.113.8"}, REMOTE_ADDR=proxy)
    assert other.status_code == 200


def test_auth_ip_throttle_refuses_past_its_own_limit(
    tiny_limits: None, frozen: time_machine.Traveller
) -> None:
    throttle = NinjaAuthIpThrottle()
    request = RequestFactory().post("/api/v2/auth/login/", REMOTE_ADDR="10.0.0.5")

    assert [throttle.allow_request(request) for _ in range(3)] == [True, True, False]
    assert throttle.wait() == 45 * 60
    # The default limit is a separate counter.
    assert NinjaRateThrottle().allow_request(request)


# --- v1 (DRF) and both layers together ------------------------------------------------------


@pytest.mark.django_db
def test_v1_refuses_the_fourth_request_of_a_user(
    tiny_limits: None, frozen: time_machine.Traveller
) -> None:
    store = StoreFactory.create()
    api = APIClient()
    api.force_authenticate(store.owner)
    for _ in range(3):
        assert api.get(STORE).status_code == 200

    assert _assert_rate_limited(api.get(STORE)) == 45 * 60  # the window ends at 11:00


@pytest.mark.django_db
def test_a_users_allowance_is_shared_by_v1_and_v2(tiny_limits: None) -> None:
    store = StoreFactory.create()
    api = APIClient()
    api.force_authenticate(store.owner)
    assert api.get(STORE).status_code == 200
    assert api.get(STORE).status_code == 200
    request = RequestFactory().get("/api/v2/orders/")
    request.auth = SimpleNamespace(user_id=store.owner.pk)  # type: ignore[attr-defined]
    throttle = NinjaRateThrottle()

    assert throttle.allow_request(request) is True
    assert throttle.allow_request(request) is False
    _assert_rate_limited(api.get(STORE))


@pytest.mark.django_db
def test_an_addresses_allowance_is_shared_by_v1_and_v2(client: Client, tiny_limits: None) -> None:
    for _ in range(3):
        assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.3").status_code == 200
    request = Request(RequestFactory().get("/api/v1/anything/", REMOTE_ADDR="10.0.0.3"))

    assert DrfRateThrottle().allow_request(request, view=None) is False


# --- what is never throttled, and what has a budget of its own -------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/schema/",
        "/api/v1/docs/",
        "/api/v2/openapi.json",
        "/api/v2/docs/",
        "/health/live/",
    ],
)
def test_documents_and_health_are_never_throttled(
    client: Client, tiny_limits: None, frozen: time_machine.Traveller, path: str
) -> None:
    for _ in range(5):
        assert client.get(path, REMOTE_ADDR="10.0.0.7").status_code == 200

    # ... and they did not spend the address' browsing budget either.
    for _ in range(3):
        assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.7").status_code == 200


@pytest.mark.django_db
def test_signing_in_does_not_spend_the_browsing_budget(
    client: Client, tiny_limits: None, frozen: time_machine.Traveller
) -> None:
    for _ in range(3):
        assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.8").status_code == 200
    _assert_rate_limited(client.get(CATEGORIES, REMOTE_ADDR="10.0.0.8"))

    # Browsing is used up, yet sign-in still answers (401: no such account), on its own
    # limit — which runs out by itself.
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    for _ in range(2):
        attempt = client.post(
            "/api/v2/auth/login/", body, content_type="application/json", REMOTE_ADDR="10.0.0.8"
        )
        assert attempt.status_code != 429, attempt.content
    _assert_rate_limited(
        client.post(
            "/api/v2/auth/login/", body, content_type="application/json", REMOTE_ADDR="10.0.0.8"
        )
    )


@pytest.mark.django_db
def test_signing_up_leaves_the_browsing_budget_whole(
    client: Client, tiny_limits: None, frozen: time_machine.Traveller
) -> None:
    for n in range(2):
        client.post(
            "/api/v2/auth/password/reset/",
            {"email": f"someone{n}@example.com"},
            content_type="application/json",
            REMOTE_ADDR="10.0.0.9",
        )

    for _ in range(3):
        assert client.get(CATEGORIES, REMOTE_ADDR="10.0.0.9").status_code == 200
