"""Real worker processes: the embedded database queue (SQLite file or PostgreSQL) and the
production Redis queue. Tasks append to files, which every process can share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.tasks.base import Task

from apps.common.background import QUEUE_PRIORITIES
from apps.common.models import FailedTask
from apps.common.tests import sample_tasks

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_COMMANDS = {
    "database": [
        "db_worker",
        "--backend=database",
        "--queue-name=*",
        "--interval=0.05",
        "--no-startup-delay",
        "--no-reload",
    ],
    "redis": ["run_redis_tasks", "--backend=redis", "--continuous", "--claim-interval=1"],
}


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url}


Start = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Start]:
    workers: list[subprocess.Popen[bytes]] = []

    def start(backend: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(workers)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "manage.py", *WORKER_COMMANDS[backend]],
            cwd=settings.BASE_DIR,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(process)
        return process

    yield start
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def backends() -> list[object]:
    return [
        pytest.param("database", id="database"),
        pytest.param("redis", id="redis", marks=pytest.mark.redis),
    ]


@pytest.mark.parametrize("backend", backends())
def test_worker_process_runs_task_and_result_is_readable(backend: str, start_worker: Start) -> None:
    result = sample_tasks.add.using(backend=backend).enqueue(20, 22)
    assert result is not None
    start_worker(backend)

    def finished() -> bool:
        result.refresh()
        return result.status == TaskResultStatus.SUCCESSFUL

    wait_for(finished, what="the task to succeed")
    assert result.return_value == 42


@pytest.mark.parametrize("backend", backends())
def test_worker_retries_transient_failure_then_succeeds(
    backend: str, start_worker: Start, tmp_path: Path
) -> None:
    log = tmp_path / "flaky.log"
    started = time.monotonic()
    sample_tasks.flaky.using(backend=backend).enqueue(str(log), succeed_on_attempt=3)
    start_worker(backend)

    wait_for(lambda: len(lines(log)) == 3, what="three attempts")
    elapsed = time.monotonic() - started
    # backoff (scaled in tests): 0.3 s then 0.6 s, ±10 %
    assert elapsed >= (0.3 + 0.6) * 0.9
    time.sleep(1.5)
    assert len(lines(log)) == 3, "no attempt after the success"
    assert not FailedTask.objects.exists()


@pytest.mark.parametrize("backend", backends())
def test_worker_records_permanent_and_exhausted_failures(
    backend: str, start_worker: Start, tmp_path: Path
) -> None:
    permanent, exhausted = tmp_path / "permanent.log", tmp_path / "exhausted.log"
    sample_tasks.missing_row.using(backend=backend).enqueue(str(permanent))
    sample_tasks.always_down.using(backend=backend).enqueue(str(exhausted))
    start_worker(backend)

    wait_for(lambda: FailedTask.objects.count() == 2, what="two failure records")
    assert len(lines(permanent)) == 1
    assert len(lines(exhausted)) == 4
    records = {f.task_path.rsplit(".", 1)[-1]: f for f in FailedTask.objects.all()}
    assert (records["missing_row"].attempts, records["missing_row"].permanent) == (1, True)
    assert (records["always_down"].attempts, records["always_down"].permanent) == (4, False)


@pytest.mark.parametrize("backend", backends())
def test_critical_backlog_finishes_before_analytics_starts(
    backend: str, start_worker: Start, tmp_path: Path
) -> None:
    log = tmp_path / "order.log"
    for queue in ("analytics", "emails", "critical"):  # enqueue the lowest first
        task: Task = sample_tasks.record_order.using(
            backend=backend, queue_name=queue, priority=QUEUE_PRIORITIES[queue]
        )
        for index in range(15):
            task.enqueue(str(log), f"{queue}-{index}")
    start_worker(backend)

    wait_for(lambda: len(lines(log)) == 45, what="the whole backlog")
    order = [line.split("-")[0] for line in lines(log)]
    assert order == ["critical"] * 15 + ["emails"] * 15 + ["analytics"] * 15


@pytest.mark.redis
def test_two_workers_apply_each_of_500_tasks_exactly_once(
    start_worker: Start, tmp_path: Path
) -> None:
    deliveries, effects, markers = tmp_path / "deliveries", tmp_path / "effects", tmp_path / "m"
    markers.mkdir()
    task = sample_tasks.record_effect.using(backend="redis")
    for index in range(500):
        task.enqueue(str(deliveries), str(effects), str(markers), f"t{index}")
    start_worker("redis")
    start_worker("redis")

    wait_for(lambda: len(lines(effects)) == 500, timeout=120, what="500 effects")
    time.sleep(1)
    assert sorted(lines(effects)) == sorted(f"t{i}" for i in range(500))
    duplicated = [key for key, count in Counter(lines(deliveries)).items() if count > 1]
    assert duplicated == [], "no message is delivered to both workers"


@pytest.mark.redis
def test_task_of_a_killed_worker_is_redelivered_and_applied_once(
    start_worker: Start, tmp_path: Path
) -> None:
    deliveries, effects, markers = tmp_path / "deliveries", tmp_path / "effects", tmp_path / "m"
    markers.mkdir()
    sample_tasks.slow_effect.using(backend="redis").enqueue(
        str(deliveries), str(effects), str(markers), "order-1", 60.0
    )
    doomed = start_worker("redis")
    wait_for(lambda: (markers / "order-1.started").exists(), what="the first delivery to start")

    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert lines(effects) == [], "the killed attempt never finished"
    start_worker("redis")

    wait_for(lambda: lines(effects) == ["order-1"], timeout=60, what="the redelivered effect")
    assert lines(deliveries) == ["order-1", "order-1"]
