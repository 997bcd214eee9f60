"""Recurring jobs: each registered job is enqueued once per tick of its interval.

Any number of ``manage.py run_scheduler`` processes may run (one per box, or replicas in
Kubernetes): a tick is claimed by inserting a ``ScheduledRun`` row under a unique
constraint, so exactly one of them enqueues it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.tasks import Task

from apps.common.models import ScheduledRun

logger = structlog.get_logger("fashionistar.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    interval: int
    task: Task
    kwargs: dict[str, Any]


_jobs: dict[str, Job] = {}


def schedule(name: str, *, every: int, task: Task, **kwargs: Any) -> None:
    """Register ``task`` to run every ``every`` seconds (aligned to the epoch)."""
    if every < 1:
        raise ValueError("every must be at least one second")
    _jobs[name] = Job(name=name, interval=every, task=task, kwargs=kwargs)


def registered_jobs() -> list[Job]:
    return list(_jobs.values())


def claim_tick(job: Job, *, now: float, claimant: str) -> int | None:
    """Claim the current tick of ``job``; None when another process already has it."""
    tick = int(now // job.interval) * job.interval
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job=job.name, tick=tick, claimed_by=claimant)
    except IntegrityError:
        return None
    return tick


def run_due_jobs(*, now: float | None = None, claimant: str = "scheduler") -> list[str]:
    """Enqueue every job whose current tick nobody has claimed yet; returns their names."""
    moment = time.time() if now is None else now
    started = []
    for job in registered_jobs():
        # The claim and the enqueue commit together (the task goes through the outbox):
        # a claimed tick always runs, and a tick never runs without its claim.
        with transaction.atomic():
            tick = claim_tick(job, now=moment, claimant=claimant)
            if tick is None:
                continue
            job.task.enqueue(**job.kwargs, scheduled_tick=tick)
        logger.info("scheduler.enqueued", job=job.name, tick=tick)
        started.append(job.name)
    return started
