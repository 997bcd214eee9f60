"""Production: refuses to start without its secrets and hosts; passes ``check --deploy``."""

from django.core.exceptions import ImproperlyConfigured

from config.env import tasks_config
from config.settings.base import *  # noqa: F403
from config.settings.base import ENV, STATIC_ROOT, TASK_QUEUES


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
# /metrics shows traffic, queues and task names: a bearer token guards it, unless the
# operator says it is guarded otherwise (a network policy, a private port).
if not ENV.METRICS_PUBLIC:
    _require(
        "METRICS_TOKEN",
        ENV.METRICS_TOKEN,
        "Prometheus sends it to read /metrics (or set METRICS_PUBLIC=true)",
    )
    if len(ENV.METRICS_TOKEN) < 32 or len(set(ENV.METRICS_TOKEN)) < 8:
        raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 varied characters")

# Payments: the real providers, with secrets from the environment (never the sandbox's).
_PROVIDER_SECRETS = {
    "paystack": ("PAYSTACK_SECRET_KEY",),
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
    "square": (
        "SQUARE_ACCESS_TOKEN",
        "SQUARE_WEBHOOK_SIGNATURE_KEY",
        "SQUARE_WEBHOOK_URL",
        "SQUARE_LOCATION_ID",
    ),
}
for _provider in ENV.PAYMENT_PROVIDERS:
    for _name in _PROVIDER_SECRETS.get(_provider, ()):
        _require(_name, getattr(ENV, _name), f"{_provider} payments are enabled")
PAYMENT_PROVIDERS = {
    "paystack": {
        "BASE_URL": ENV.PAYSTACK_BASE_URL or "https://api.paystack.co",
        "SECRET_KEY": ENV.PAYSTACK_SECRET_KEY,
    },
    "stripe": {
        "BASE_URL": ENV.STRIPE_BASE_URL or "https://api.stripe.com",
        "SECRET_KEY": ENV.STRIPE_SECRET_KEY,
        "WEBHOOK_SECRET": ENV.STRIPE_WEBHOOK_SECRET,
    },
    "square": {
        "BASE_URL": ENV.SQUARE_BASE_URL or "https://connect.squareup.com",
        "ACCESS_TOKEN": ENV.SQUARE_ACCESS_TOKEN,
        "WEBHOOK_SIGNATURE_KEY": ENV.SQUARE_WEBHOOK_SIGNATURE_KEY,
        "WEBHOOK_URL": ENV.SQUARE_WEBHOOK_URL,
        "LOCATION_ID": ENV.SQUARE_LOCATION_ID,
    },
}
PAYMENT_PROVIDERS = {k: v for k, v in PAYMENT_PROVIDERS.items() if k in ENV.PAYMENT_PROVIDERS}

TASKS = {
    "default": tasks_config(
        ENV.TASK_BACKEND or "redis",
        redis_url=ENV.REDIS_URL,
        queues=TASK_QUEUES,
        sentinel=ENV.redis_sentinel(),
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
# Hashed, compressed static files from `collectstatic` (the image runs it when built).
# Without its manifest the admin and the API docs still work — unhashed URLs, files
# served from the apps' folders — and `check --deploy` reports the missing step
# (apps.common.staticfiles).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "apps.common.staticfiles.CollectedStaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = not (STATIC_ROOT / "staticfiles.json").exists()
