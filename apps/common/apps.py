from typing import Any

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.tasks.signals import task_enqueued

        # checks and staticfiles: imported for the system checks they register
        from apps.common import checks, metrics, staticfiles  # noqa: F401
        from apps.common.scheduler import schedule
        from apps.common.tasks import housekeeping

        def count_enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
            task = task_result.task
            metrics.TASKS_ENQUEUED.labels(task.name, task.queue_name).inc()

        # weak=False: the receiver is local to this method and would be collected at once.
        task_enqueued.connect(
            count_enqueued, dispatch_uid="fashionistar.count_enqueued", weak=False
        )
        schedule("housekeeping", every=3600, task=housekeeping)
