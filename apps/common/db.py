"""Running sync database work from async views: one hop, connections handed back.

An async endpoint calls its service or selector once through :func:`in_thread`. Before
the hop returns, the connections it used go back to the pool — the work Django's
``request_finished`` signal would otherwise do in a second hop at the end of the request.

Where the call runs:

- In a request served by the lean API pipeline (``apps.common.pipeline``), on a thread of
  a bounded per-process pool, in a copy of the request's context (its log context
  travels; the database connection is the thread's own for the length of the call).
  Django would otherwise start and join a new thread for every request
  (``ThreadSensitiveContext``) — a fifth of the CPU of a product read on this hardware.
  A transaction never spans two calls, so nothing needs the same thread twice.
- Anywhere else (the test client, management commands), through ``sync_to_async`` in
  Django's thread-sensitive mode, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

_pooled_threads = contextvars.ContextVar("fashionistar.pooled_threads", default=False)
_executor: ThreadPoolExecutor | None = None


def release_connections() -> None:
    """Close (return to the pool) this thread's connections that Django would close at
    the end of a request. A connection inside an atomic block is left alone: that block
    belongs to a caller further up (the test suite wraps each test in one)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def _call_and_release[R](func: Callable[[], R]) -> R:
    try:
        return func()
    finally:
        release_connections()


def _thread_pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.API_SYNC_THREADS, thread_name_prefix="api-sync"
        )
    return _executor


@contextmanager
def pooled_threads() -> Iterator[None]:
    """Within this block, :func:`in_thread` runs calls on the per-process thread pool."""
    token = _pooled_threads.set(True)
    try:
        yield
    finally:
        _pooled_threads.reset(token)


async def in_thread[**P, R](func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``await in_thread(selector, **kwargs)``: ``selector(**kwargs)`` in a sync thread,
    its database connections released before the hop returns."""
    call = partial(_call_and_release, partial(func, *args, **kwargs))
    if _pooled_threads.get():
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(_thread_pool(), context.run, call)
    return await sync_to_async(call)()
