"""``manage.py run_scheduler``: enqueue recurring jobs on time (safe to run several).

Runs until SIGTERM/SIGINT; a database or Redis fault is logged and backed off, never the
end of the process.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandParser
from django_tasks_redis import GracefulShutdown

from apps.common import observability
from apps.common.loops import run_loop
from apps.common.scheduler import registered_jobs, run_due_jobs

logger = structlog.get_logger("fashionistar.scheduler")


class Command(BaseCommand):
    help = "Run the recurring-job scheduler until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        observability.process_start("scheduler")
        claimant = f"{socket.gethostname()}:{os.getpid()}"
        logger.info("scheduler.started", jobs=[job.name for job in registered_jobs()])
        if once:
            run_due_jobs(claimant=claimant)
            return

        def check() -> bool:
            run_due_jobs(claimant=claimant)
            return False  # always wait the interval before the next check

        with GracefulShutdown() as shutdown:
            run_loop(check, name="scheduler", shutdown=shutdown, idle_seconds=interval)
