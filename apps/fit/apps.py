from django.apps import AppConfig


class FitConfig(AppConfig):
    name = "apps.fit"
    label = "fit"
    verbose_name = "Size and fit"
