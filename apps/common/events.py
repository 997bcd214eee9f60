"""The domain event bus (instead of Django signals).

* Events are frozen, validated pydantic models that carry ids and plain values.
* ``subscribe(EventType)`` registers a sync or async handler; handlers of one event run in
  registration order.
* ``publish(event)`` delivers after the surrounding transaction commits, and never when it
  rolls back; with no transaction open it delivers at once. The event is written to the
  transactional outbox with the change it describes, so a crash or a database blink
  between the commit and the delivery delays it, never loses it (``apps.common.outbox``).
* A failing handler is logged with its traceback and neither the publisher nor the other
  handlers notice.

Handlers should be quick: slow or retryable work belongs in a task the handler enqueues.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import structlog
from asgiref.sync import async_to_sync, sync_to_async
from pydantic import BaseModel, ConfigDict

logger = structlog.get_logger(__name__)


class Event(BaseModel):
    """Base of every domain event. Subclasses set ``name`` and declare their fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str] = "event"


Handler = Callable[[Any], None] | Callable[[Any], Awaitable[None]]
_handlers: dict[type[Event], list[Handler]] = defaultdict(list)


def subscribe[E: Event](event_type: type[E]) -> Callable[[Callable[[E], Any]], Callable[[E], Any]]:
    """Decorator registering ``handler`` for ``event_type``. Registering twice is a no-op."""

    def register(handler: Callable[[E], Any]) -> Callable[[E], Any]:
        if handler not in _handlers[event_type]:
            _handlers[event_type].append(handler)
        return handler

    return register


def unsubscribe(event_type: type[Event], handler: Handler) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def handlers_for(event_type: type[Event]) -> list[Handler]:
    return list(_handlers.get(event_type, ()))


def publish(event: Event) -> None:
    """Deliver ``event`` to its handlers once the current transaction commits."""
    from apps.common.outbox import publish_event

    publish_event(event)


async def apublish(event: Event) -> None:
    """Deliver ``event`` from async code at once (in-process only: it is not recorded in
    the outbox, so domain services publish with ``publish`` from their transaction)."""
    for handler in handlers_for(type(event)):
        try:
            if inspect.iscoroutinefunction(handler):
                await handler(event)
            else:
                await sync_to_async(handler)(event)
        except Exception:
            _log_failure(event, handler)


def deliver_to_handlers(
    event: Event, *, isolate: Callable[[], AbstractContextManager[Any]] = nullcontext
) -> None:
    """Run every handler of ``event``, each inside ``isolate()`` (e.g. a savepoint)."""
    for handler in handlers_for(type(event)):
        try:
            with isolate():
                if inspect.iscoroutinefunction(handler):
                    async_to_sync(handler)(event)
                else:
                    handler(event)
        except Exception:
            _log_failure(event, handler)


def _log_failure(event: Event, handler: Handler) -> None:
    logger.exception(
        "event.handler_failed",
        event_name=event.name,
        handler=f"{handler.__module__}.{getattr(handler, '__qualname__', handler)}",
    )
