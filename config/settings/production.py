"""Production: refuses to start without its secrets and hosts; passes ``check --deploy``."""

from django.core.exceptions import ImproperlyConfigured

from config.env import tasks_config
from config.settings.base import *  # noqa: F403
from config.settings.base import ENV, TASK_QUEUES


def _require(name: str, value: object, why: str) -> None:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production: {why}")


_require("DJANGO_SECRET_KEY", ENV.DJANGO_SECRET_KEY, "it signs sessions and tokens")
if len(ENV.DJANGO_SECRET_KEY) < 50 or len(set(ENV.DJANGO_SECRET_KEY)) < 5:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 varied characters")
_require("DJANGO_ALLOWED_HOSTS", ENV.DJANGO_ALLOWED_HOSTS, "the host names the API answers on")
_require("DATABASE_URL", ENV.DATABASE_URL, "production runs on PostgreSQL")
_require("REDIS_URL", ENV.REDIS_URL, "cache and rate-limit counters are shared through Redis")
_require("EMAIL_URL", ENV.EMAIL_URL, "emails go out through SMTP")

TASKS = {
    "default": tasks_config(
        ENV.TASK_BACKEND or "redis", redis_url=ENV.REDIS_URL, queues=TASK_QUEUES
    )
}

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = False
