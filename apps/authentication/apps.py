from django.apps import AppConfig


class AuthenticationConfig(AppConfig):
    name = "apps.authentication"
    label = "authentication"
    verbose_name = "Accounts"
