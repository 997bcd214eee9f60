from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "apps.returns"
    label = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from apps.common.scheduler import schedule
        from apps.returns import handlers  # noqa: F401 - subscribes the handlers
        from apps.returns.tasks import sweep_returns

        schedule("sweep_returns", every=3600, task=sweep_returns)
