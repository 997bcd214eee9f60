"""``manage.py run_worker``: run background tasks until SIGTERM/SIGINT, on either backend.

Picks the worker from the backend's class (django-tasks-db or django-tasks-redis) and
runs it inside the resilient loop: a database or Redis fault is logged and backed off,
never the end of the process. The first signal lets the running task finish; a second
one exits at once (the task is then recovered: by the heartbeat sweep on the database
backend, by the stale-message sweep on Redis).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_redis import GracefulShutdown, RedisTaskBackend

from apps.common import observability
from apps.common.loops import run_loop
from apps.common.workers import DatabaseWorker, RedisWorker


class Command(BaseCommand):
    help = "Run a task worker (database or Redis backend) until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backend", default="default", help="TASKS alias (default: default)")
        parser.add_argument(
            "--queues",
            default="*",
            help="'*' for all (critical first); database: a comma list; Redis: one queue",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when no task is ready (database backend)",
        )
        parser.add_argument(
            "--claim-interval",
            type=float,
            default=60.0,
            help="seconds between sweeps for tasks of dead workers (Redis backend)",
        )
        parser.add_argument("--worker-id", default=None, help="database backend; default random")

    def handle(
        self,
        *args: Any,
        backend: str,
        queues: str,
        interval: float,
        claim_interval: float,
        worker_id: str | None,
        **options: Any,
    ) -> None:
        observability.process_start("worker")
        task_backend = task_backends[backend]
        names = [name.strip() for name in queues.split(",") if name.strip()] or ["*"]
        with GracefulShutdown(log_signals=True) as shutdown:
            if isinstance(task_backend, DatabaseBackend):
                worker = DatabaseWorker(backend_name=backend, queues=names, worker_id=worker_id)
                worker.start()
                try:
                    run_loop(
                        worker.step, name="db_worker", shutdown=shutdown, idle_seconds=interval
                    )
                finally:
                    worker.stop()
            elif isinstance(task_backend, RedisTaskBackend):
                if len(names) > 1:
                    raise CommandError("the Redis worker drains one queue, or '*' for all")
                queue = None if names == ["*"] else names[0]
                redis_worker = RedisWorker(
                    backend_name=backend, queue=queue, claim_interval=claim_interval
                )
                try:
                    run_loop(
                        redis_worker.step,
                        name="redis_worker",
                        shutdown=shutdown,
                        idle_seconds=interval if not redis_worker.wait_seconds else 0,
                    )
                finally:
                    redis_worker.stop()
            else:
                raise CommandError(
                    f"backend {backend!r} ({type(task_backend).__name__}) needs no worker"
                )
