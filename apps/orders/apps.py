from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from apps.common.scheduler import schedule
        from apps.orders import handlers  # noqa: F401 - subscribes the handlers
        from apps.orders.tasks import expire_unpaid_orders

        schedule("expire_unpaid_orders", every=60, task=expire_unpaid_orders)
