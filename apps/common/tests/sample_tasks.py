"""Tasks used by the task-layer tests. They live in an importable module so that worker
processes started by the tests can run them. Effects are lines appended to files, which
every process (and both database passes) can share."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist

from apps.common.background import background_task


def append(path: str, line: str) -> int:
    """Append one line (atomic for short lines with O_APPEND) and return the line count."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)
    return len(Path(path).read_text().splitlines())


def once(marker_dir: str, key: str) -> bool:
    """True the first time ``key`` is seen, across processes (an idempotency guard)."""
    try:
        os.close(os.open(os.path.join(marker_dir, key), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


@background_task(queue="default")
def add(a: int, b: int) -> int:
    return a + b


@background_task(queue="default", retries=3)
def flaky(log_path: str, succeed_on_attempt: int) -> int:
    attempt = append(log_path, "attempt")
    if attempt < succeed_on_attempt:
        raise ConnectionError("provider unavailable")
    return attempt


@background_task(queue="default", retries=3)
def always_down(log_path: str) -> None:
    append(log_path, "attempt")
    raise ConnectionError("provider unavailable")


@background_task(queue="default", retries=3)
def missing_row(log_path: str) -> None:
    append(log_path, "attempt")
    raise ObjectDoesNotExist("order 42 does not exist")


@background_task(queue="default", retries=1, time_limit=0.3)
def too_slow(log_path: str) -> None:
    append(log_path, "attempt")
    time.sleep(5)


@background_task(queue="default")
def record_effect(deliveries: str, effects: str, marker_dir: str, key: str) -> None:
    """Idempotent: a redelivered or duplicated message applies its effect once."""
    append(deliveries, key)
    if once(marker_dir, key):
        append(effects, key)


@background_task(queue="default", time_limit=120)
def slow_effect(deliveries: str, effects: str, marker_dir: str, key: str, seconds: float) -> None:
    """The first delivery announces itself and works slowly (the test kills it)."""
    first = once(marker_dir, f"{key}.started")
    append(deliveries, key)
    if first:
        time.sleep(seconds)
    if once(marker_dir, key):
        append(effects, key)


@background_task(queue="default")
def record_order(log_path: str, label: str) -> None:
    append(log_path, label)
