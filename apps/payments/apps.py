from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from apps.common.scheduler import schedule
        from apps.payments import handlers  # noqa: F401 - subscribes the handlers
        from apps.payments.tasks import reconcile_pending_payments

        schedule("reconcile_pending_payments", every=300, task=reconcile_pending_payments)
