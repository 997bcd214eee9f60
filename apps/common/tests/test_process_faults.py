"""Long-running processes against real faults: a test-owned redis-server stopped and
started again, database connections killed with ``pg_terminate_backend``, workers and
supervised children killed with SIGKILL. Each test starts the real commands
(``run_worker``, ``run_scheduler``, ``run_relay``, ``tools.supervise``) as processes."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.tasks import TaskResult, TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from apps.common import workers
from apps.common.models import FailedTask, WorkerHeartbeat
from apps.common.outbox import META
from apps.common.tests import fault_tasks, sample_tasks
from apps.common.tests.processes import (
    ManagedProcess,
    Processes,
    RedisServer,
    child_env,
    database_backends_terminate,
    free_port,
    processes_fixture,  # noqa: F401 - fixture
    redis_server_fixture,  # noqa: F401 - fixture
    shared_database_url,
    wait_until,
)
from config.env import tasks_config

pytestmark = pytest.mark.django_db(transaction=True)

TASKS_PREFIX = "fault-tests"

# A scheduler with one extra job, every second, whose task records its tick.
SCHEDULER = """
import sys
import django
django.setup()
from django.core.management import call_command
from apps.common.scheduler import schedule
from apps.common.tests import fault_tasks
task = fault_tasks.scheduled_probe.using(backend=sys.argv[1])
schedule("fault-probe", every=1, task=task, log_path=sys.argv[2])
call_command("run_scheduler", interval=0.2)
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def use_redis(settings: SettingsWrapper, url: str) -> None:
    """Point this test process's ``redis`` task backend at ``url`` (the started processes
    get the same backend through ``REDIS_URL`` and ``TEST_TASKS_PREFIX``)."""
    config = tasks_config("redis", redis_url=url, queues=settings.TASK_QUEUES)
    config["OPTIONS"].update(
        REDIS_KEY_PREFIX=TASKS_PREFIX,
        REDIS_CLAIM_TIMEOUT=3,
        REDIS_BLOCK_TIMEOUT=200,
        REDIS_SOCKET_CONNECT_TIMEOUT=1,
    )
    settings.TASKS = {**settings.TASKS, "redis": config}


@dataclass
class Fleet:
    """The long-running processes of a deployment, on the test's database and Redis."""

    redis_worker: ManagedProcess
    db_worker: ManagedProcess
    scheduler: ManagedProcess
    relay: ManagedProcess
    ticks: Path

    def members(self) -> list[ManagedProcess]:
        return [self.redis_worker, self.db_worker, self.scheduler, self.relay]

    def assert_alive(self) -> None:
        dead = [f"{p.name} (exit {p.process.poll()})" for p in self.members() if not p.alive()]
        assert not dead, f"exited: {dead}"

    def ticks_since(self, moment: float) -> list[int]:
        return [int(tick) for tick in lines(self.ticks) if int(tick) >= moment]


def start_fleet(
    processes: Processes, redis_server: RedisServer, tmp_path: Path, settings: SettingsWrapper
) -> Fleet:
    use_redis(settings, redis_server.url)
    settings.OUTBOX_RELAY_DELAY = 0

    def env(name: str) -> dict[str, str]:
        return child_env(
            name,
            REDIS_URL=redis_server.url,
            TEST_TASKS_PREFIX=TASKS_PREFIX,
            OUTBOX_RELAY_DELAY="0.5",
        )

    ticks = tmp_path / "ticks.log"
    return Fleet(
        redis_worker=processes.manage(
            "redis-worker",
            "run_worker",
            "--backend=redis",
            "--claim-interval=1",
            env=env("redis-worker"),
        ),
        db_worker=processes.manage(
            "db-worker", "run_worker", "--backend=database", "--interval=0.05", env=env("db-worker")
        ),
        scheduler=processes.python(
            "scheduler", SCHEDULER, "redis", str(ticks), env=env("scheduler")
        ),
        relay=processes.manage("relay", "run_relay", "--interval=0.1", env=env("relay")),
        ticks=ticks,
    )


def enqueue_probes(done: Path, label: str) -> None:
    fault_tasks.probe.using(backend="redis").enqueue(str(done), f"redis-{label}")
    fault_tasks.probe.using(backend="database").enqueue(str(done), f"database-{label}")


def wait_for_warm_fleet(fleet: Fleet, done: Path, processes: Processes) -> None:
    enqueue_probes(done, "before")
    wait_until(
        lambda: {"redis-before", "database-before"} <= set(lines(done)) and lines(fleet.ticks),
        timeout=60,
        what="both workers and the scheduler to work",
        details=processes.logs,
    )


def test_scheduler_relay_and_workers_keep_working_through_a_redis_restart(
    redis_server: RedisServer,
    processes: Processes,
    tmp_path: Path,
    settings: SettingsWrapper,
) -> None:
    done = tmp_path / "done.log"
    fleet = start_fleet(processes, redis_server, tmp_path, settings)
    wait_for_warm_fleet(fleet, done, processes)

    redis_server.stop()
    # Enqueued while Redis is down: refused, so it waits in the outbox for the relay.
    fault_tasks.probe.using(backend="redis").enqueue(str(done), "redis-during")
    time.sleep(3)
    fleet.assert_alive()
    redis_server.start()  # empty: streams, consumer groups and cache are gone
    restarted_at = time.time()
    enqueue_probes(done, "after")

    wait_until(
        lambda: (
            {"redis-during", "redis-after", "database-after"} <= set(lines(done))
            and fleet.ticks_since(restarted_at)
        ),
        timeout=45,
        what="work enqueued during and after the outage, and new scheduler ticks",
        details=processes.logs,
    )
    fleet.assert_alive()


@pytest.mark.postgres
def test_scheduler_relay_and_workers_keep_working_through_killed_database_connections(
    redis_server: RedisServer,
    processes: Processes,
    tmp_path: Path,
    settings: SettingsWrapper,
) -> None:
    done = tmp_path / "done.log"
    fleet = start_fleet(processes, redis_server, tmp_path, settings)
    wait_for_warm_fleet(fleet, done, processes)

    killed = 0
    for _ in range(3):  # idle and busy connections, pooled ones and those in use
        killed += database_backends_terminate()
        time.sleep(0.3)
    assert killed >= len(fleet.members())
    killed_at = time.time()
    # A message only the relay can send: this process's own send is refused (no server).
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")
    fault_tasks.probe.using(backend="redis").enqueue(str(done), "redis-relayed")
    use_redis(settings, redis_server.url)
    enqueue_probes(done, "after")

    wait_until(
        lambda: (
            {"redis-relayed", "redis-after", "database-after"} <= set(lines(done))
            and fleet.ticks_since(killed_at)
        ),
        timeout=45,
        what="work enqueued after the connections were killed, and new scheduler ticks",
        details=processes.logs,
    )
    fleet.assert_alive()
    for process in (fleet.db_worker, fleet.scheduler, fleet.relay):
        assert "loop.transient_error" in process.log(), f"{process.name} never met the fault"


def test_a_task_left_running_by_a_killed_worker_is_requeued_and_completes(
    processes: Processes, tmp_path: Path
) -> None:
    deliveries, effects, markers = tmp_path / "deliveries", tmp_path / "effects", tmp_path / "m"
    markers.mkdir()
    env = child_env(
        "recovery",
        TASK_HEARTBEAT_INTERVAL="0.2",
        TASK_RECOVERY_GRACE="1",
        TASK_TIME_LIMIT_MAX="1",
    )

    def start_worker(worker_id: str) -> ManagedProcess:
        return processes.manage(
            worker_id,
            "run_worker",
            "--backend=database",
            "--interval=0.05",
            f"--worker-id={worker_id}",
            env=env,
        )

    def run_slowly(key: str, seconds: float) -> TaskResult[Any, Any]:
        result = sample_tasks.slow_effect.using(backend="database").enqueue(
            str(deliveries), str(effects), str(markers), key, seconds
        )
        assert result is not None
        return result

    # A live worker's task is left alone, even when it runs past the time limit + grace:
    # its heartbeat names it.
    worker_a, worker_b = start_worker("worker-a"), start_worker("worker-b")
    wait_until(
        lambda: WorkerHeartbeat.objects.filter(worker_id__in=["worker-a", "worker-b"]).count() == 2,
        what="both workers' heartbeats",
        details=processes.logs,
    )
    run_slowly("long", 5.0)
    wait_until(lambda: "long" in lines(effects), timeout=30, details=processes.logs)
    assert lines(deliveries) == ["long"], "a running task was re-queued"

    # A worker leaving cleanly removes its heartbeat.
    worker_b.signal(signal.SIGTERM)
    assert worker_b.wait() == 0
    assert not WorkerHeartbeat.objects.filter(worker_id="worker-b").exists()

    # Killed mid-task, nobody left: the task stays RUNNING until a worker starts.
    result = run_slowly("crash", 60.0)
    wait_until(lambda: (markers / "crash.started").exists(), what="the doomed run to start")
    worker_a.signal(signal.SIGKILL)
    worker_a.wait()
    time.sleep(2.5)  # past the time limit + grace
    result.refresh()
    assert result.status == TaskResultStatus.RUNNING

    start_worker("worker-c")
    wait_until(
        lambda: "crash" in lines(effects),
        timeout=30,
        what="the re-queued task to complete",
        details=processes.logs,
    )

    # The effect is written inside the task; its result is recorded just after it returns.
    def finished() -> bool:
        result.refresh()
        return result.status == TaskResultStatus.SUCCESSFUL

    wait_until(finished, timeout=30, what="the re-run's result", details=processes.logs)
    assert lines(deliveries).count("crash") == 2
    assert lines(effects) == ["long", "crash"]


def test_a_worker_asked_to_stop_finishes_its_task_first(
    processes: Processes, tmp_path: Path
) -> None:
    deliveries, effects, markers = tmp_path / "deliveries", tmp_path / "effects", tmp_path / "m"
    markers.mkdir()
    worker = processes.manage(
        "worker",
        "run_worker",
        "--backend=database",
        "--interval=0.05",
        "--worker-id=stopping",
        env=child_env("stopping"),
    )
    result = sample_tasks.slow_effect.using(backend="database").enqueue(
        str(deliveries), str(effects), str(markers), "last", 2.0
    )
    wait_until(
        lambda: (markers / "last.started").exists(),
        what="the task to start",
        details=processes.logs,
    )

    worker.signal(signal.SIGTERM)

    # The worker ends its task, records it and leaves cleanly; nothing is left to redo.
    assert worker.wait() == 0
    assert lines(effects) == ["last"] and lines(deliveries) == ["last"]
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert not WorkerHeartbeat.objects.filter(worker_id="stopping").exists()


# --- make run: the supervisor ---------------------------------------------------------------

STARTED = re.compile(r"supervise: started (\S+) \(pid (\d+)\)")


def started_pids(supervisor: ManagedProcess) -> dict[str, list[int]]:
    pids: dict[str, list[int]] = {}
    for name, pid in STARTED.findall(supervisor.log()):
        pids.setdefault(name, []).append(int(pid))
    return pids


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class HealthPoller(threading.Thread):
    """Asks the API for ``/health/live/`` every 50 ms and keeps the failures."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.failures: list[str] = []
        self.successes = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self.stopping.is_set():
                try:
                    response = client.get(self.url)
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                else:
                    if response.status_code == 200:
                        self.successes += 1
                    else:
                        self.failures.append(str(response.status_code))
                self.stopping.wait(0.05)


def test_make_run_restarts_a_killed_child_and_the_api_keeps_serving(
    processes: Processes, tmp_path: Path
) -> None:
    port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": shared_database_url("supervised"),
        "TASK_BACKEND": "database",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SANDBOX_PORT": str(sandbox_port),
        "PAYMENT_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    supervisor = processes.start(
        "supervise",
        [sys.executable, "-m", "tools.supervise", "scripts/run.procfile", "--backoff=0.2"],
        env=env,
    )
    health = f"http://127.0.0.1:{port}/health/live/"
    children = {"api", "worker", "scheduler", "relay", "sandbox"}

    def api_answers() -> bool:
        try:
            return httpx.get(health, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(
        lambda: set(started_pids(supervisor)) == children and api_answers(),
        timeout=60,
        what="every child and the API",
        details=processes.logs,
    )
    poller = HealthPoller(health)
    poller.start()
    for name in ("worker", "scheduler", "relay", "sandbox"):
        before = started_pids(supervisor)[name]
        os.kill(before[-1], signal.SIGKILL)
        wait_until(
            lambda: started_pids(supervisor)[name] != before,  # noqa: B023 - waited on here
            timeout=15,
            what=f"{name} to be restarted",
            details=processes.logs,
        )
        assert re.search(rf"{name} exited \(signal 9\).*restarting in", supervisor.log())
    poller.stopping.set()
    poller.join()
    assert poller.failures == [], "the API stopped answering while other children died"
    assert poller.successes > 10

    api_pids = started_pids(supervisor)["api"]
    os.kill(api_pids[-1], signal.SIGKILL)
    wait_until(
        lambda: len(started_pids(supervisor)["api"]) > len(api_pids) and api_answers(),
        timeout=30,
        what="the API to be restarted and answer",
        details=processes.logs,
    )

    supervisor.signal(signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    every_pid = [pid for pids in started_pids(supervisor).values() for pid in pids]
    assert [pid for pid in every_pid if is_running(pid)] == []
    assert not api_answers()


def test_supervisor_backs_off_a_crashing_child_and_leaves_the_others_alone(
    processes: Processes, tmp_path: Path
) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("crashing: sh -c 'exit 3'\nsteady: sleep 60\n")
    supervisor = processes.start(
        "supervise",
        [sys.executable, "-m", "tools.supervise", str(procfile), "--backoff=0.1"],
        env={**os.environ},
    )
    wait_until(
        lambda: len(started_pids(supervisor).get("crashing", [])) >= 4,
        timeout=20,
        what="four starts of the crashing child",
        details=processes.logs,
    )
    delays = [
        float(d) for d in re.findall(r"crashing exited \(code 3\).*in ([\d.]+) s", supervisor.log())
    ]
    assert delays[:3] == sorted(delays[:3]) and delays[2] > delays[0] * 3, delays
    assert len(started_pids(supervisor)["steady"]) == 1

    supervisor.signal(signal.SIGINT)
    assert supervisor.wait() == 0
    assert not is_running(started_pids(supervisor)["steady"][0])


def test_recovery_requeues_only_abandoned_tasks_and_fails_one_that_keeps_killing_workers(
    settings: SettingsWrapper,
) -> None:
    settings.TASK_RECOVERY_GRACE = 10
    settings.TASK_TIME_LIMIT_MAX = 30
    now = timezone.now()

    def running(worker_ids: list[str], started_seconds_ago: float) -> DBTaskResult[Any, Any]:
        result = sample_tasks.add.using(backend="database").enqueue(1, 2)
        assert result is not None
        DBTaskResult.objects.filter(pk=result.id).update(
            status=TaskResultStatus.RUNNING,
            worker_ids=worker_ids,
            started_at=now - timedelta(seconds=started_seconds_ago),
        )
        return DBTaskResult.objects.get(pk=result.id)

    live_worker = running(["w-live"], 300)
    WorkerHeartbeat.objects.create(
        worker_id="w-live",
        hostname="h",
        pid=1,
        queues="*",
        beat_at=now,
        task_id=str(live_worker.id),
    )
    too_recent = running(["w-dead"], 39)  # under the time limit + grace
    abandoned = running(["w-dead"], 41)
    orphaned = running(["w-other", "w-live"], 300)  # its worker lives but runs another task
    poison = running(["w-1", "w-2", "w-3"], 300)

    requeued = workers.abandoned_tasks_requeue(backend_name="database", now=now)

    assert sorted(requeued) == sorted(str(r.id) for r in (abandoned, orphaned, poison))
    status = {r.id: r.status for r in DBTaskResult.objects.all()}
    assert status[live_worker.id] == TaskResultStatus.RUNNING
    assert status[too_recent.id] == TaskResultStatus.RUNNING
    assert status[abandoned.id] == status[orphaned.id] == TaskResultStatus.READY
    assert status[poison.id] == TaskResultStatus.FAILED
    meta = DBTaskResult.objects.get(pk=abandoned.id).args_kwargs["kwargs"][META]
    assert meta["attempt"] == 2, "re-queued as the next attempt, past the dead run's receipt"
    [failure] = FailedTask.objects.all()
    assert failure.error_class.endswith("WorkerLost")
    assert (failure.args, failure.kwargs) == ([1, 2], {})
    assert workers.abandoned_tasks_requeue(backend_name="database", now=now) == []
