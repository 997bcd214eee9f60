"""``manage.py run_relay``: send outbox messages left behind, until SIGTERM/SIGINT.

Any number may run (messages are locked with SKIP LOCKED). Sends a batch, and again at
once while there was something to send; otherwise waits ``--interval``. A database or
Redis fault is logged and backed off, never the end of the process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tasks_redis import GracefulShutdown

from apps.common import observability, outbox
from apps.common.loops import run_loop


class Command(BaseCommand):
    help = "Relay pending outbox messages to the task backend until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when nothing is due"
        )
        parser.add_argument("--batch", type=int, default=100, help="messages per batch")

    def handle(self, *args: Any, interval: float, batch: int, **options: Any) -> None:
        observability.process_start("relay")
        with GracefulShutdown() as shutdown:
            run_loop(
                lambda: outbox.relay_pending(limit=batch),
                name="relay",
                shutdown=shutdown,
                idle_seconds=interval,
            )
