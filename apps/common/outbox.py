"""Transactional outbox: work that must follow a committed write is never lost.

Enqueuing a background task or publishing a domain event writes an ``OutboxMessage`` in
the caller's transaction; it exists exactly when the change it follows commits. Right
after the commit the message is sent (the task handed to the task backend, the event
delivered to its handlers) and deleted. When that cannot happen — the task backend is
unreachable, the database blinks, the process dies — the message stays and the relay
(``manage.py run_relay``; any number of them) sends it later, with back-off.

Each relayed task carries a deduplication key (``outbox:<message id>``), checked against
``TaskReceipt`` when it starts: a message sent twice (the relay died between sending and
deleting it) runs once. Events are delivered inside the transaction that deletes their
message, so the tasks their handlers enqueue are written exactly once. See ADR 0006.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.tasks import Task, TaskResult
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.common.models import OutboxMessage, TaskReceipt

if TYPE_CHECKING:
    from apps.common.events import Event

logger = structlog.get_logger("fashionistar.outbox")

META = "_task_meta"
MAX_BACKOFF_SECONDS = 300


def _relay_delay() -> timedelta:
    """How long the relay leaves a fresh message to the sender that wrote it."""
    return timedelta(seconds=float(getattr(settings, "OUTBOX_RELAY_DELAY", 5.0)))


def enqueue_task(
    task: Task, args: tuple[Any, ...], kwargs: dict[str, Any], *, run_after: datetime | None = None
) -> TaskResult[Any, Any] | None:
    """Record ``task`` for sending; send it at once, or after the open transaction commits.

    Returns the backend's result when it was sent at once, otherwise None.
    """
    payload: dict[str, Any] = {
        "args": list(args),
        "kwargs": kwargs,
        # what ``task.using(...)`` may have changed from the declaration
        "using": {
            "backend": task.backend,
            "queue_name": task.queue_name,
            "priority": task.priority,
        },
    }
    if run_after is not None:
        payload["using"]["run_after"] = run_after.isoformat()
    message = OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.TASK,
        path=task.module_path,
        payload=payload,
        available_at=timezone.now() + _relay_delay(),
    )
    return _after_commit(lambda: _send_now(message))


def publish_event(event: Event) -> None:
    """Record ``event``; deliver it to its handlers once the open transaction commits."""
    message = OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.EVENT,
        path=f"{type(event).__module__}.{type(event).__qualname__}",
        payload=event.model_dump(mode="json"),
        available_at=timezone.now() + _relay_delay(),
    )
    _after_commit(lambda: _deliver_now(message.pk, event))


def _after_commit[T](send: Callable[[], T | None]) -> T | None:
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(send)
        return None
    return send()


def _send_now(message: OutboxMessage) -> TaskResult[Any, Any] | None:
    try:
        result = _send_task(message)
    except Exception as error:
        logger.warning(
            "outbox.send_deferred",
            message_id=message.pk,
            path=message.path,
            error=f"{type(error).__name__}: {error}",
        )
        return None
    try:
        OutboxMessage.objects.filter(pk=message.pk).delete()
    except Exception as error:  # sent: a second send is caught by the receipt
        logger.warning(
            "outbox.delete_failed", message_id=message.pk, error=f"{type(error).__name__}: {error}"
        )
    return result


def _deliver_now(message_id: int, event: Event) -> None:
    try:
        with transaction.atomic():
            deleted, _ = OutboxMessage.objects.filter(pk=message_id).delete()
            if deleted:  # otherwise the relay has it
                _deliver_event(event)
    except Exception as error:
        logger.warning(
            "outbox.delivery_deferred",
            message_id=message_id,
            event_name=event.name,
            error=f"{type(error).__name__}: {error}",
        )


def _send_task(message: OutboxMessage) -> TaskResult[Any, Any]:
    task: Task = import_string(message.path)
    kwargs = dict(message.payload.get("kwargs") or {})
    meta = dict(kwargs.get(META) or {"attempt": 1})
    meta.setdefault("key", f"outbox:{message.pk}")
    kwargs[META] = meta
    using = dict(message.payload.get("using") or {})
    run_after = using.pop("run_after", None)
    task = task.using(**using)
    if run_after and task.get_backend().supports_defer:
        task = task.using(run_after=datetime.fromisoformat(run_after))
    return Task.enqueue(task, *(message.payload.get("args") or ()), **kwargs)


def _deliver_event(event: Event) -> None:
    """Run each handler in its own savepoint: a failing one is logged and rolled back
    alone; the message counts as delivered (handlers must not fail for transient
    reasons — slow or retryable work belongs in a task they enqueue)."""
    from apps.common.events import deliver_to_handlers

    deliver_to_handlers(event, isolate=transaction.atomic)


def _event_from(message: OutboxMessage) -> Event:
    event_type: type[Event] = import_string(message.path)
    return event_type.model_validate(message.payload)


def relay_pending(limit: int = 100) -> int:
    """Send due messages left behind; returns how many were sent.

    Rows are locked with SKIP LOCKED, so relays run side by side without sending one
    message twice. The first task the backend refuses ends the batch: the backend is
    down, and the rest would only wait for the same timeout.
    """
    now = timezone.now()
    sent: list[int] = []
    with transaction.atomic():
        batch = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(available_at__lte=now)
            .order_by("available_at", "id")[:limit]
        )
        for message in batch:
            try:
                with transaction.atomic():
                    if message.kind == OutboxMessage.Kind.EVENT:
                        _deliver_event(_event_from(message))
                    else:
                        _send_task(message)
            except Exception as error:
                _postpone(message, error, now)
                if message.kind == OutboxMessage.Kind.TASK:
                    break
            else:
                sent.append(message.pk)
        OutboxMessage.objects.filter(pk__in=sent).delete()
    if sent:
        logger.info("outbox.relayed", count=len(sent))
    return len(sent)


def _postpone(message: OutboxMessage, error: Exception, now: datetime) -> None:
    message.attempts += 1
    delay = min(2**message.attempts, MAX_BACKOFF_SECONDS) * random.uniform(0.9, 1.1)
    message.available_at = now + timedelta(seconds=delay)
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    message.save(update_fields=["attempts", "available_at", "last_error"])
    logger.warning(
        "outbox.relay_failed",
        message_id=message.pk,
        path=message.path,
        attempts=message.attempts,
        error=message.last_error,
    )


def backlog() -> dict[str, float | int]:
    """How many messages wait and how old the oldest is (seconds), for probes and metrics."""
    row = OutboxMessage.objects.aggregate(oldest=Min("created_at"))
    depth = OutboxMessage.objects.count()
    oldest = row["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    return {"depth": depth, "oldest_age_seconds": round(max(age, 0.0), 3)}


# Receipts: a relayed task runs once per attempt.


@dataclass(frozen=True)
class Claim:
    """The verdict on one run of a relayed task: ``run`` it, or it is ``done`` already,
    or another copy holds it until ``busy_until`` (run it again then, if still needed)."""

    run: bool = False
    done: bool = False
    busy_until: datetime | None = None


def claim_receipt(key: str, attempt: int, *, lease_seconds: float, claimant: str) -> Claim:
    """May this run (task result id ``claimant``) of ``key`` go ahead? Yes when the key is
    new, this is a later attempt, this is the backend redelivering the claiming message
    (its worker died), or the claim is older than ``lease_seconds``."""
    now = timezone.now()
    _, created = TaskReceipt.objects.get_or_create(
        key=key, defaults={"attempt": attempt, "claimed_by": claimant, "claimed_at": now}
    )
    if created:
        return Claim(run=True)
    lease = timedelta(seconds=lease_seconds)
    claimed = (
        TaskReceipt.objects.filter(key=key, finished_at__isnull=True)
        .filter(Q(attempt__lt=attempt) | Q(claimed_by=claimant) | Q(claimed_at__lt=now - lease))
        .update(attempt=attempt, claimed_by=claimant, claimed_at=now)
    )
    if claimed:
        return Claim(run=True)
    receipt = TaskReceipt.objects.filter(key=key).values("finished_at", "claimed_at").first()
    if receipt is None or receipt["finished_at"] is not None:
        return Claim(done=True)
    return Claim(busy_until=receipt["claimed_at"] + lease)


def finish_receipt(key: str) -> None:
    TaskReceipt.objects.filter(key=key).update(finished_at=timezone.now())
