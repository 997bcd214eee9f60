"""Background tasks on ``django.tasks`` with our retry policy, time limits and context.

Declare a task with ``@background_task(queue="emails")`` instead of ``@task``; the result
is a ``django.tasks`` Task (any backend runs it) that additionally

* retries transient failures (default 3 retries, backoff 60 s, 120 s, 240 s ± 10 %
  jitter) by re-enqueueing itself with ``run_after``; permanent failures — a missing row,
  invalid input, a domain error, or ``PermanentTaskError`` — never retry;
* enforces a per-attempt time limit (30 s default) in worker processes;
* records a ``FailedTask`` row (visible to staff, re-queueable from the admin), logs at
  error level and counts a metric when it gives up;
* carries the enqueuing request's id into the worker's log lines together with the task
  id, name, queue and attempt, and — while tracing is on — the trace context: each
  attempt runs in a CONSUMER span, child of the span that enqueued it;
* is enqueued through the transactional outbox: recorded with the caller's transaction,
  sent after it commits, and sent later by the relay when the task backend is
  unreachable (``apps.common.outbox``); a task the relay sent twice runs once.

Task functions receive ids and plain values; they must be idempotent, because both a
retry and a redelivery after a worker crash run them again.
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.tasks import Task, TaskContext, TaskResult
from django.utils import timezone

from apps.common import metrics, outbox, tracing
from apps.common.errors import ApplicationError
from apps.common.outbox import META

logger = structlog.get_logger("fashionistar.tasks")


QUEUE_PRIORITIES = {"critical": 50, "emails": 0, "default": 0, "analytics": -50}
DEFAULT_BACKOFF = (60, 120, 240)

P = ParamSpec("P")
R = TypeVar("R")


class PermanentTaskError(Exception):
    """Raise from a task for a failure that another attempt cannot fix."""


class TaskTimeLimitExceeded(Exception):
    """An attempt ran longer than its time limit (transient: it is retried)."""


PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentTaskError,
    ObjectDoesNotExist,
    DjangoValidationError,
    ApplicationError,
    TypeError,
)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: Sequence[float] = DEFAULT_BACKOFF
    jitter: float = 0.1
    time_limit: float = 30.0

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 = the first retry)."""
        base = self.backoff[min(attempt - 2, len(self.backoff) - 1)]
        scaled = base * float(getattr(settings, "TASK_RETRY_BACKOFF_SCALE", 1.0))
        return scaled * (1 + random.uniform(-self.jitter, self.jitter))


#: Every declared task's policy, by task path (read by the system check on time limits).
DECLARED_POLICIES: dict[str, RetryPolicy] = {}


def is_permanent(error: BaseException) -> bool:
    return isinstance(error, PERMANENT_ERRORS)


class ResilientTask(Task):
    """A ``django.tasks`` Task whose enqueue carries context and waits for commit."""

    __slots__ = ()

    def enqueue(self, *args: Any, **kwargs: Any) -> TaskResult[Any, Any] | None:  # type: ignore[override]
        """Record the task in the outbox and send it now, or — inside a transaction —
        once it commits. Returns the backend's result when sent at once, else None."""
        return outbox.enqueue_task(self, args, _with_meta(kwargs))

    async def aenqueue(self, *args: Any, **kwargs: Any) -> TaskResult[Any, Any] | None:  # type: ignore[override]
        return await sync_to_async(self.enqueue)(*args, **kwargs)


def _with_meta(kwargs: dict[str, Any]) -> dict[str, Any]:
    if META in kwargs:
        return kwargs
    context = structlog.contextvars.get_contextvars()
    meta = {"attempt": 1, "request_id": context.get("request_id")}
    if tracing.tracer is not None:
        tracing.inject(meta)  # W3C traceparent: the attempts' spans are children of ours
    return {**kwargs, META: meta}


def background_task(
    *,
    queue: str = "default",
    priority: int | None = None,
    retries: int = 3,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
    jitter: float = 0.1,
    time_limit: float = 30.0,
    backend: str = "default",
) -> Callable[[Callable[P, R]], ResilientTask]:
    """Declare a background task with a queue and a retry policy."""
    policy = RetryPolicy(
        retries=retries, backoff=tuple(backoff), jitter=jitter, time_limit=time_limit
    )

    def decorate(func: Callable[P, R]) -> ResilientTask:
        def runner(context: TaskContext, *args: Any, **kwargs: Any) -> Any:
            meta = dict(kwargs.pop(META, None) or {"attempt": 1})
            if tracing.tracer is None:
                return _run_attempt(context, func, policy, meta, args, kwargs)
            task = context.task_result.task
            with tracing.task_span(
                name=task.name,
                path=task.module_path,
                queue=task.queue_name,
                task_id=context.task_result.id,
                attempt=int(meta.get("attempt", 1)),
                meta=meta,
            ):
                return _run_attempt(context, func, policy, meta, args, kwargs)

        # Workers find a task by the path of its function: the runner must carry the
        # decorated function's name (but not its signature, which lacks ``context``).
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(runner, attribute, getattr(func, attribute))

        declared = ResilientTask(
            func=runner,
            priority=QUEUE_PRIORITIES.get(queue, 0) if priority is None else priority,
            queue_name=queue,
            backend=backend,
            takes_context=True,
        )
        DECLARED_POLICIES[declared.module_path] = policy
        return declared

    return decorate


def _run_attempt(
    context: TaskContext,
    func: Callable[..., Any],
    policy: RetryPolicy,
    meta: dict[str, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    task = context.task_result.task
    attempt = int(meta.get("attempt", 1))
    bound = {
        "task_id": context.task_result.id,
        "task_name": task.name,
        "queue": task.queue_name,
        "attempt": attempt,
        "request_id": meta.get("request_id"),
    }
    key = meta.get("key")
    with structlog.contextvars.bound_contextvars(**bound):
        try:
            if key and not _claimed(context, task, policy, meta, key, args, kwargs):
                return None
            metrics.TASKS_STARTED.labels(task.name, task.queue_name).inc()
            logger.info("task.started")
            with time_limit(policy.time_limit):
                result = func(*args, **kwargs)
        except Exception as error:
            _handle_failure(task, policy, meta, attempt, args, kwargs, error)
            raise
        if key:
            outbox.finish_receipt(key)
        metrics.TASKS_FINISHED.labels(task.name, task.queue_name, "succeeded").inc()
        logger.info("task.succeeded")
        return result


def _claimed(
    context: TaskContext,
    task: Task,
    policy: RetryPolicy,
    meta: dict[str, Any],
    key: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> bool:
    """Claim the run of a relayed task. A copy that finds it done is dropped; a copy that
    finds another copy running comes back when that one's lease ends, so if that one
    died the work still happens."""
    attempt = int(meta.get("attempt", 1))
    claim = outbox.claim_receipt(
        key, attempt, lease_seconds=_lease(policy), claimant=context.task_result.id
    )
    if claim.run:
        return True
    if claim.done or claim.busy_until is None or not task.get_backend().supports_defer:
        logger.info("task.duplicate_skipped", key=key)
        return False
    logger.info("task.duplicate_deferred", key=key, until=claim.busy_until.isoformat())
    outbox.enqueue_task(task, args, {**kwargs, META: meta}, run_after=claim.busy_until)
    return False


def _lease(policy: RetryPolicy) -> float:
    """How long a started run owns its receipt: its time limit plus a grace."""
    return policy.time_limit + float(getattr(settings, "TASK_RECOVERY_GRACE", 30.0))


def _handle_failure(
    task: Task,
    policy: RetryPolicy,
    meta: dict[str, Any],
    attempt: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: Exception,
) -> None:
    permanent = is_permanent(error)
    if not permanent and attempt <= policy.retries:
        delay = policy.delay_before(attempt + 1)
        metrics.TASKS_FINISHED.labels(task.name, task.queue_name, "retried").inc()
        logger.warning(
            "task.retry_scheduled",
            error=f"{type(error).__name__}: {error}",
            next_attempt=attempt + 1,
            delay_seconds=round(delay, 2),
        )
        outbox.enqueue_task(
            task,
            args,
            {**kwargs, META: {**meta, "attempt": attempt + 1}},
            run_after=timezone.now() + timedelta(seconds=delay),
        )
        return
    from apps.common.models import FailedTask

    FailedTask.objects.create(
        task_path=task.module_path,
        queue_name=task.queue_name,
        args=list(args),
        kwargs=kwargs,
        attempts=attempt,
        permanent=permanent,
        error_class=f"{type(error).__module__}.{type(error).__qualname__}",
        error_message=str(error)[:2000],
        traceback="".join(traceback.format_exception(error))[-20000:],
        request_id=meta.get("request_id") or "",
    )
    metrics.TASKS_FINISHED.labels(task.name, task.queue_name, "failed").inc()
    logger.error(
        "task.failed",
        permanent=permanent,
        attempts=attempt,
        error=f"{type(error).__name__}: {error}",
    )


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the attempt after ``seconds`` (worker main thread only, where the
    task runs in a worker process; elsewhere the caller's own timeouts apply)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TaskTimeLimitExceeded(f"attempt exceeded its {seconds:g} s time limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def requeue_failed(failed_task_id: int) -> TaskResult[Any, Any] | None:
    """Enqueue a recorded failure again as a fresh first attempt (staff action)."""
    from django.utils.module_loading import import_string

    from apps.common.models import FailedTask

    with transaction.atomic():
        failed = FailedTask.objects.select_for_update().get(pk=failed_task_id)
        if failed.requeued_at is not None:
            return None
        task: Task = import_string(failed.task_path)
        failed.requeued_at = timezone.now()
        failed.save(update_fields=["requeued_at", "updated_at"])
        meta = {"attempt": 1, "request_id": failed.request_id or None}
        if tracing.tracer is not None:
            tracing.inject(meta)  # the re-run belongs to the staff request that asked for it
        return outbox.enqueue_task(task, tuple(failed.args), {**failed.kwargs, META: meta})
