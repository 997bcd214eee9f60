"""Recurring jobs run once per tick, however many schedulers compete."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection

from apps.common import scheduler
from apps.common.models import ScheduledRun
from apps.common.tasks import HEARTBEAT_KEY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def only_housekeeping() -> Iterator[None]:
    saved = dict(scheduler._jobs)
    scheduler._jobs.clear()
    scheduler._jobs["housekeeping"] = saved["housekeeping"]
    yield
    scheduler._jobs.clear()
    scheduler._jobs.update(saved)


@pytest.mark.usefixtures("only_housekeeping")
def test_each_tick_runs_once_and_the_next_tick_runs_again() -> None:
    now = 1_800_000_000.0

    assert scheduler.run_due_jobs(now=now, claimant="a") == ["housekeeping"]
    assert scheduler.run_due_jobs(now=now + 10, claimant="b") == []
    assert scheduler.run_due_jobs(now=now + 3600, claimant="b") == ["housekeeping"]

    assert ScheduledRun.objects.count() == 2
    assert cache.get(HEARTBEAT_KEY) == int((now + 3600) // 3600) * 3600


@pytest.mark.postgres
@pytest.mark.usefixtures("only_housekeeping")
def test_competing_schedulers_claim_a_tick_exactly_once() -> None:
    now = 1_800_000_000.0
    barrier = threading.Barrier(8)
    started: list[list[str]] = []

    def compete(index: int) -> None:
        barrier.wait()
        try:
            started.append(scheduler.run_due_jobs(now=now, claimant=f"s{index}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=compete, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(len(names) for names in started) == [0] * 7 + [1]
    assert ScheduledRun.objects.count() == 1


def test_schedule_rejects_a_zero_interval() -> None:
    with pytest.raises(ValueError, match="every"):
        scheduler.schedule("bad", every=0, task=scheduler._jobs["housekeeping"].task)
