from django.apps import AppConfig


class AuthenticationConfig(AppConfig):
    name = "apps.authentication"
    label = "authentication"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from apps.authentication import handlers  # noqa: F401 - subscribes the handlers
