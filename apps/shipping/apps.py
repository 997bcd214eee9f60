from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "apps.shipping"
    label = "shipping"
    verbose_name = "Shipping"

    def ready(self) -> None:
        from apps.common.scheduler import schedule
        from apps.shipping import handlers  # noqa: F401 - subscribes the handlers
        from apps.shipping.tasks import deliver_overdue_shipments, mail_unshipped_digests

        schedule("deliver_overdue_shipments", every=3600, task=deliver_overdue_shipments)
        schedule("mail_unshipped_digests", every=86400, task=mail_unshipped_digests)
