from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "apps.payouts"
    label = "payouts"
    verbose_name = "Vendor money"

    def ready(self) -> None:
        from apps.common.scheduler import schedule
        from apps.payouts import handlers  # noqa: F401 - subscribes the handlers
        from apps.payouts.tasks import (
            reconcile_payouts,
            release_held_earnings,
            run_scheduled_payouts,
        )

        schedule("release_held_earnings", every=3600, task=release_held_earnings)
        schedule("reconcile_payouts", every=300, task=reconcile_payouts)
        # Weekly ticks fall on Thursdays at 00:00 UTC (the epoch was a Thursday).
        schedule("run_scheduled_payouts", every=7 * 86400, task=run_scheduled_payouts)
