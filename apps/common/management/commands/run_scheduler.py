"""``manage.py run_scheduler``: enqueue recurring jobs on time (safe to run several)."""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from apps.common.scheduler import registered_jobs, run_due_jobs

logger = structlog.get_logger("fashionistar.scheduler")


class Command(BaseCommand):
    help = "Run the recurring-job scheduler until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        claimant = f"{socket.gethostname()}:{id(self)}"
        self.running = True

        def stop(signum: int, frame: object) -> None:
            self.running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("scheduler.started", jobs=[job.name for job in registered_jobs()])
        while self.running:
            close_old_connections()
            run_due_jobs(claimant=claimant)
            if once:
                break
            time.sleep(interval)
        logger.info("scheduler.stopped")
