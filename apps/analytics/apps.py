from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from apps.analytics import handlers  # noqa: F401 - subscribes the handlers
        from apps.analytics.tasks import daily_sales_report
        from apps.common.scheduler import schedule

        schedule("daily_sales_report", every=86400, task=daily_sales_report)
