"""``/metrics`` with every process: a real worker process counts into the shared
multiprocess directory and the API's scrape shows it, next to the live queue depth and
age; dead processes' live gauges are cleaned; the token guards the endpoint and the
workers' metrics port."""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apps.common import metrics
from apps.common.tests import sample_tasks
from apps.common.tests.processes import (  # noqa: F401 (fixture)
    Processes,
    RedisServer,
    child_env,
    processes_fixture,
    redis_server_fixture,
    wait_until,
)
from apps.common.tests.test_process_faults import use_redis

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-the-tests-0123456789abcdef"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of ``name`` whose labels include ``labels`` (0 if none)."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def scrape(client: Client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def test_the_scrape_shows_what_a_worker_process_did_and_the_queues_it_drained(
    client: Client, settings: Any, processes: Processes, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    settings.PROMETHEUS_MULTIPROC_DIR = str(directory)
    flaky_log = tmp_path / "flaky.log"
    for number in range(3):
        sample_tasks.add.using(backend="database").enqueue(number, 1)
    sample_tasks.flaky.using(backend="database").enqueue(str(flaky_log), succeed_on_attempt=2)
    sample_tasks.missing_row.using(backend="database").enqueue(str(tmp_path / "missing.log"))

    before = scrape(client)
    assert value(before, "fashionistar_task_queue_depth", queue="default") == 5
    assert value(before, "fashionistar_task_queue_oldest_age_seconds", queue="default") > 0
    assert value(before, "fashionistar_tasks_total") == 0

    worker = processes.manage(
        "worker",
        "run_worker",
        "--backend=database",
        "--queues=*",
        "--interval=0.05",
        env=child_env("worker", PROMETHEUS_MULTIPROC_DIR=str(directory)),
    )

    def done() -> bool:
        samples = scrape(client)
        return (
            value(samples, "fashionistar_tasks_total", outcome="succeeded") == 4
            and value(samples, "fashionistar_tasks_total", outcome="failed") == 1
            and value(samples, "fashionistar_task_queue_depth", queue="default") == 0
        )

    wait_until(done, timeout=60, what="the worker's outcomes in the scrape", details=worker.tail)
    after = scrape(client)
    add = {"task": "add", "queue": "default"}
    assert value(after, "fashionistar_tasks_started_total", **add) == 3
    assert value(after, "fashionistar_tasks_total", outcome="succeeded", **add) == 3
    flaky = {"task": "flaky", "queue": "default"}
    assert value(after, "fashionistar_tasks_started_total", **flaky) == 2
    assert value(after, "fashionistar_tasks_total", outcome="retried", **flaky) == 1
    assert value(after, "fashionistar_tasks_total", outcome="succeeded", **flaky) == 1
    assert value(after, "fashionistar_tasks_total", outcome="failed", task="missing_row") == 1
    assert value(after, "fashionistar_task_queue_oldest_age_seconds", queue="default") == 0
    if connection.vendor == "postgresql":
        # the worker's own connection pool, sampled by the worker
        wait_until(
            lambda: value(scrape(client), "fashionistar_db_pool_max", process="worker") > 0,
            timeout=15,
            what="the worker's pool gauges",
        )
        pool = {
            labels: v
            for (name, labels), v in scrape(client).items()
            if name == "fashionistar_db_pool_connections" and ("process", "worker") in labels
        }
        assert pool and all(("pid", str(worker.pid)) in labels for labels in pool)


def test_a_dead_process_leaves_its_counts_and_loses_its_live_gauges(tmp_path: Path) -> None:
    dead = _dead_pid()
    for name in (
        f"counter_{dead}.db",
        f"gauge_liveall_{dead}.db",
        f"gauge_liveall_{os.getpid()}.db",
    ):
        (tmp_path / name).write_bytes(b"")

    assert metrics.remove_dead_process_files(str(tmp_path)) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",
        f"gauge_liveall_{os.getpid()}.db",
    ]


def _dead_pid() -> int:
    pid = 4_000_000
    while metrics._alive(pid):
        pid += 1
    return pid


def test_a_task_counts_as_enqueued_and_its_attempt_as_started(settings: Any) -> None:
    labels = {"task": "add", "queue": "default"}
    started = REGISTRY.get_sample_value("fashionistar_tasks_started_total", labels) or 0
    enqueued = REGISTRY.get_sample_value("fashionistar_tasks_enqueued_total", labels) or 0

    sample_tasks.add.enqueue(1, 2)

    assert REGISTRY.get_sample_value("fashionistar_tasks_started_total", labels) == started + 1
    assert REGISTRY.get_sample_value("fashionistar_tasks_enqueued_total", labels) == enqueued + 1


def test_requests_are_counted_by_route_template(client: Client) -> None:
    client.get("/api/v2/products/123456789/")

    samples = scrape(client)
    templates = {
        dict(labels)["route"]
        for name, labels in samples
        if name == "fashionistar_http_request_duration_seconds_count"
    }
    assert "api/v2/products/<product_id>/" in templates
    assert not any("123456789" in route for route in templates)


# --- the token -----------------------------------------------------------------------------


def test_with_a_token_metrics_need_it_and_answer_a_problem_otherwise(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = TOKEN

    missing = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused["Content-Type"] == "application/problem+json"
        assert refused["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["code"] == "metrics_token_required"
        assert b"fashionistar_" not in refused.content
    assert right.status_code == 200
    assert b"fashionistar_task_queue_depth" in right.content


def test_without_a_token_local_and_test_metrics_are_open(client: Client, settings: Any) -> None:
    assert settings.METRICS_TOKEN == ""

    assert client.get("/metrics").status_code == 200


PRODUCTION_SCRAPE = """
from django.test import Client
client = Client(HTTP_HOST="api.fashionistar.dev")
for auth in (None, "Bearer wrong-token-wrong-token-wrong-token-x", "Bearer " + TOKEN):
    headers = {"Authorization": auth} if auth else {}
    response = client.get("/metrics", headers=headers, secure=True)
    print("scrape", response.status_code, response["Content-Type"])
"""


def test_production_metrics_need_the_token(tmp_path: Path) -> None:
    from config.tests.test_settings import PRODUCTION_ENV, manage

    result = manage(
        "shell",
        "-c",
        f"TOKEN = {TOKEN!r}\n{PRODUCTION_SCRAPE}",
        **{
            **PRODUCTION_ENV,
            "METRICS_TOKEN": TOKEN,
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "PAYMENT_PROVIDERS": "",
        },
    )

    assert result.returncode == 0, result.stderr
    scrapes = [line.split()[1:] for line in result.stdout.splitlines() if line.startswith("scrape")]
    assert scrapes == [
        ["401", "application/problem+json"],
        ["401", "application/problem+json"],
        ["200", "text/plain;", "version=1.0.0;", "charset=utf-8"],
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (a local test server)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def test_the_worker_metrics_port_serves_the_directory_behind_the_token(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    port = _free_port()
    server = metrics.start_metrics_server(port, token=TOKEN, directory=str(tmp_path / "m"))
    assert server is not None
    try:
        second = metrics.start_metrics_server(port, token=TOKEN, directory=str(tmp_path / "m"))
        refused, body = _get(f"http://127.0.0.1:{port}/metrics")
        served, _ = _get(f"http://127.0.0.1:{port}/metrics", TOKEN)
    finally:
        server.shutdown()
        server.server_close()

    assert second is None, "another process of the container serves the port"
    assert refused == 401 and b"metrics_token_required" in body
    assert served == 200


@pytest.mark.redis
def test_the_scrape_shows_queue_depth_and_age_on_the_redis_backend(
    client: Client, settings: Any, redis_server: RedisServer, time_machine: Any
) -> None:
    # The production set-up: the autoscalers read these from the Redis task backend.
    use_redis(settings, redis_server.url)
    settings.METRICS_TOKEN = ""
    time_machine.move_to("2030-01-01T12:00:00Z", tick=False)
    for number in range(3):
        sample_tasks.add.using(backend="redis").enqueue(number, 1)
    sample_tasks.record_order.using(backend="redis").enqueue("/dev/null", "x")
    time_machine.shift(90)

    samples = scrape(client)

    assert value(samples, "fashionistar_task_queue_depth", queue="default") == 4
    assert value(samples, "fashionistar_task_queue_oldest_age_seconds", queue="default") == 90
    others = [q for q in settings.TASK_QUEUES if q != "default"]
    assert others and all(
        value(samples, "fashionistar_task_queue_depth", queue=q) == 0 for q in others
    )
