"""Task workers that keep going through service faults, for both task backends.

``manage.py run_worker`` runs one of these inside :func:`apps.common.loops.run_loop`, so a
killed database connection or a Redis restart costs a back-off, not the process. Each
step uses the libraries' own pieces — django-tasks-db's claim and ``Worker.run_task``,
django-tasks-redis's broker and ``run_task`` — and adds what they lack:

* database backend: a heartbeat (``WorkerHeartbeat``, refreshed by a thread) and a
  recovery sweep that puts back in the queue a task left RUNNING by a worker that died
  (:func:`abandoned_tasks_requeue`);
* Redis backend: the database connection is released after each task and checked
  before the next one, so a connection the server killed fails no task.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import OperationalError, transaction
from django.tasks import task_backends
from django.tasks.base import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as LibraryDatabaseWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception
from django_tasks_redis.utils import generate_worker_id

from apps.common.background import RetryPolicy
from apps.common.loops import Every, ensure_usable_connection, release_connections
from apps.common.models import FailedTask, WorkerHeartbeat
from apps.common.outbox import META

logger = structlog.get_logger("fashionistar.workers")

#: A task whose worker died this many times is failed instead of re-queued again: it is
#: probably what kills them (memory, a crash in native code).
MAX_WORKER_LOSSES = 3


class WorkerLost(Exception):
    """The worker running the task died before recording its outcome."""


def heartbeat_interval() -> float:
    return float(getattr(settings, "TASK_HEARTBEAT_INTERVAL", 5.0))


def recovery_grace() -> float:
    return float(getattr(settings, "TASK_RECOVERY_GRACE", 30.0))


def recovery_time_limit() -> float:
    return float(getattr(settings, "TASK_TIME_LIMIT_MAX", RetryPolicy.time_limit))


# --- database backend: heartbeat and recovery --------------------------------------------


class Heartbeat:
    """Refreshes this worker's ``WorkerHeartbeat`` row from a daemon thread, naming the
    task it runs, until :meth:`stop`. A failed beat is logged and tried again."""

    def __init__(self, *, worker_id: str, queues: str, interval: float) -> None:
        self.worker_id = worker_id
        self.queues = queues[:255]
        self.interval = interval
        self.task_id = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="task-heartbeat", daemon=True)
        self._failing = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove the row (the worker leaves cleanly)."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except Exception as error:  # the row goes stale and is pruned later
            logger.warning("worker.heartbeat_remove_failed", error=str(error))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._beat_once()
            self._stop.wait(self.interval)

    def _beat_once(self) -> None:
        try:
            self.beat()
        except Exception as error:
            if not self._failing:
                logger.warning("worker.heartbeat_failed", error=f"{type(error).__name__}: {error}")
            self._failing = True
        else:
            if self._failing:
                logger.info("worker.heartbeat_recovered")
            self._failing = False
        # This thread's connection goes back to the pool (dropped if it broke).
        release_connections(after_error=self._failing)

    def beat(self) -> None:
        now = timezone.now()
        updated = WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            beat_at=now, task_id=self.task_id
        )
        if not updated:
            WorkerHeartbeat.objects.create(
                worker_id=self.worker_id,
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                queues=self.queues,
                started_at=now,
                beat_at=now,
                task_id=self.task_id,
            )


def abandoned_tasks_requeue(
    *, backend_name: str, now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Put back in the queue the tasks a dead worker left RUNNING; returns their ids.

    A RUNNING task is abandoned when it started more than ``TASK_TIME_LIMIT_MAX +
    TASK_RECOVERY_GRACE`` seconds ago (any live attempt has hit its time limit by then)
    and the worker that claimed it has not named it in a heartbeat for
    ``TASK_RECOVERY_GRACE`` seconds. It goes back to READY as the next attempt, so its
    run receipt lets it through; a task whose worker died ``MAX_WORKER_LOSSES`` times
    is marked FAILED and recorded as a failed task instead. Safe to run in every worker
    at once (each change is conditional on the row being unchanged).
    """
    now = now or timezone.now()
    grace = timedelta(seconds=recovery_grace())
    started_before = now - grace - timedelta(seconds=recovery_time_limit())
    candidates = list(
        DBTaskResult.objects.running()
        .filter(backend_name=backend_name, started_at__lt=started_before)
        .order_by("started_at")[:limit]
    )
    if not candidates:
        return []
    running_now = {
        (beat.worker_id, beat.task_id)
        for beat in WorkerHeartbeat.objects.filter(beat_at__gte=now - grace).only(
            "worker_id", "task_id"
        )
    }
    requeued = []
    for result in candidates:
        worker_id = result.worker_ids[-1] if result.worker_ids else ""
        if (worker_id, str(result.id)) in running_now:
            continue  # a live worker is still on it
        if _requeue_one(result, worker_id=worker_id):
            requeued.append(str(result.id))
    _prune_heartbeats(now)
    return requeued


def _requeue_one(result: DBTaskResult[Any, Any], *, worker_id: str) -> bool:
    unchanged = DBTaskResult.objects.filter(
        pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
    )
    fields = {"task_id": str(result.id), "task_path": result.task_path, "worker_id": worker_id}
    if len(result.worker_ids) >= MAX_WORKER_LOSSES:
        error = WorkerLost(f"its worker died {len(result.worker_ids)} times")
        with transaction.atomic():
            if not unchanged.select_for_update().exists():
                return False
            result.set_failed(error)
            _record_failure(result, error)
        logger.error("task.abandoned_failed", losses=len(result.worker_ids), **fields)
        return True
    args_kwargs = _next_attempt(result.args_kwargs)
    if not unchanged.update(status=TaskResultStatus.READY, args_kwargs=args_kwargs):
        return False
    logger.warning("task.abandoned_requeued", **fields)
    return True


def _next_attempt(args_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The same call as the next attempt: a run receipt held by the dead attempt does
    not stop it (``apps.common.outbox.claim_receipt``)."""
    kwargs = dict(args_kwargs.get("kwargs") or {})
    meta = kwargs.get(META)
    if isinstance(meta, dict):
        kwargs[META] = {**meta, "attempt": int(meta.get("attempt", 1)) + 1}
    return {**args_kwargs, "kwargs": kwargs}


def _record_failure(result: DBTaskResult[Any, Any], error: WorkerLost) -> None:
    kwargs = dict(result.args_kwargs.get("kwargs") or {})
    meta = kwargs.pop(META, None) or {}
    FailedTask.objects.create(
        task_path=result.task_path,
        queue_name=result.queue_name,
        args=list(result.args_kwargs.get("args") or []),
        kwargs=kwargs,
        attempts=int(meta.get("attempt", 1)),
        permanent=False,
        error_class=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        error_message=str(error),
        traceback="",
        request_id=meta.get("request_id") or "",
    )


def _prune_heartbeats(now: datetime) -> None:
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()


class DatabaseWorker:
    """One step claims the next ready task (highest priority first) and runs it."""

    def __init__(
        self, *, backend_name: str, queues: list[str], worker_id: str | None = None
    ) -> None:
        self.backend_name = backend_name
        self.queues = queues
        self.worker_id = worker_id or get_random_string(32)
        self.runner = LibraryDatabaseWorker(
            queue_names=queues,
            interval=0,
            batch=False,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        self.heartbeat = Heartbeat(
            worker_id=self.worker_id, queues=",".join(queues), interval=heartbeat_interval()
        )
        self.recovery = Every(heartbeat_interval())

    def start(self) -> None:
        self.heartbeat.start()

    def stop(self) -> None:
        self.heartbeat.stop()

    def step(self) -> bool:
        """Run one task; False when none was ready."""
        if self.recovery.due():
            abandoned_tasks_requeue(backend_name=self.backend_name)
        result = self.claim()
        if result is None:
            return False
        self.heartbeat.task_id = str(result.id)
        try:
            # Records the outcome; a failure to record it (the database went away)
            # propagates, and the task, still RUNNING, is recovered after the grace.
            self.runner.run_task(result)
        finally:
            self.heartbeat.task_id = ""
        return True

    def claim(self) -> DBTaskResult[Any, Any] | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if "*" not in self.queues:
            tasks = tasks.filter(queue_name__in=self.queues)
        with exclusive_transaction(tasks.db):
            try:
                result = tasks.get_locked()
            except OperationalError as error:
                if is_locked_database_exception(error):  # SQLite busy: try again soon
                    return None
                raise
            if result is not None:
                result.claim(self.worker_id)
        return result


# --- Redis backend ------------------------------------------------------------------------


class RedisWorker:
    """One step receives a message (waiting up to ``REDIS_BLOCK_TIMEOUT``), runs its task
    and acknowledges it; every ``claim_interval`` it first takes over the messages of
    workers that died (django-tasks-redis' stale-message sweep)."""

    def __init__(self, *, backend_name: str, queue: str | None, claim_interval: float) -> None:
        backend: Any = task_backends[backend_name]
        self.backend = backend
        self.broker = backend.broker
        self.queue = queue
        self.worker_id = generate_worker_id()
        self.sweep = Every(claim_interval)
        self.wait_seconds = (backend.block_timeout or 0) / 1000

    def step(self) -> int:
        if self.sweep.due():
            claimed = self.broker.claim_stale_messages(self.worker_id)
            if claimed:
                logger.info("worker.stale_tasks_claimed", count=claimed)
        messages = self.broker.receive(
            queue_name=self.queue,
            max_messages=1,
            wait_seconds=self.wait_seconds,
            worker_id=self.worker_id,
        )
        for message in messages:
            # A task must not meet a connection the server killed while it idled: its
            # failure could not even be recorded for a retry.
            ensure_usable_connection()
            try:
                self.backend.run_task(message.task_id, worker_id=self.worker_id)
            except TaskResultDoesNotExist:
                self.broker.ack(message)  # nothing left to run
                continue
            except BaseException:
                # The message stays pending under this consumer name. Reading on under a
                # new name leaves it to the stale-message sweep, which also resets a task
                # the failed attempt left RUNNING.
                self.worker_id = generate_worker_id()
                raise
            finally:
                release_connections()
            self.broker.ack(message)
        return len(messages)

    def stop(self) -> None:
        for action in (lambda: self.broker.remove_consumer(self.worker_id), self.broker.close):
            try:
                action()
            except Exception as error:  # housekeeping only: the sweep removes it later
                logger.warning("worker.cleanup_failed", error=f"{type(error).__name__}")
