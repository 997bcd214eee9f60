"""Settings shared by every environment. ``local``, ``test`` and ``production`` override.

Everything that varies between deployments comes from the environment through
``config.env.Env``; nothing here is a secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.csp import CSP

from config.env import (
    BASE_DIR,
    cache_config,
    database_from_url,
    load_env,
    mailer_from_url,
    payout_minimums,
    tasks_config,
)
from config.logging import logging_config

ENV = load_env()

SECRET_KEY = ENV.DJANGO_SECRET_KEY
DEBUG = ENV.DJANGO_DEBUG
ALLOWED_HOSTS: list[str] = ENV.DJANGO_ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS: list[str] = ENV.DJANGO_CSRF_TRUSTED_ORIGINS
VAR_DIR = ENV.VAR_DIR
VAR_DIR.mkdir(parents=True, exist_ok=True)  # local state: SQLite file, emails, static

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic",
    "django.contrib.staticfiles",
    "ninja",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    "django_tasks_redis",
    "apps.common",
    "apps.authentication",
    "apps.vendors",
    "apps.catalog",
    "apps.inventory",
    "apps.orders",
    "apps.addresses",
    "apps.payments",
    "apps.analytics",
    "apps.payouts",
    "apps.shipping",
    "apps.returns",
    "apps.fit",
]

MIDDLEWARE = [
    "apps.common.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The APIs, health probes and metrics are served by a lean ASGI pipeline
# (apps.common.pipeline): only natively async middleware, no sessions, CSRF or messages.
API_PATH_PREFIXES = ["/api/", "/health/", "/metrics"]
API_MIDDLEWARE = [
    "apps.common.request_id.RequestIdMiddleware",
    "apps.common.pipeline.InlineHooksMiddleware",
    "apps.common.pipeline.BodyLimitMiddleware",
    "apps.common.pipeline.InputGuardMiddleware",
]
# Request bodies above these sizes are refused with 413 before they are read or parsed.
API_MAX_BODY_BYTES = ENV.API_MAX_BODY_BYTES
API_WEBHOOK_PATH_PREFIX = "/api/v2/webhooks/"
API_MAX_WEBHOOK_BODY_BYTES = ENV.API_MAX_WEBHOOK_BODY_BYTES
# Paths whose sync work all goes through apps.common.db.in_thread (the async v2 layer, the
# health probes): served without a new thread per request, on a pool of this many threads
# per process (sized like the database pool, so a thread never waits for a connection).
API_POOLED_THREAD_PREFIXES = ["/api/v2/", "/health/"]
API_SYNC_THREADS = ENV.DATABASE_POOL_MAX_SIZE
# Django middleware whose hooks do no I/O, run inline by InlineHooksMiddleware in this
# order — the same headers, host check and slash redirects as the full stack above.
API_INLINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- data -------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": database_from_url(
        ENV.DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        pool_min=ENV.DATABASE_POOL_MIN_SIZE,
        pool_max=ENV.DATABASE_POOL_MAX_SIZE,
        pool_timeout=ENV.DATABASE_POOL_TIMEOUT,
        pgbouncer=ENV.DATABASE_PGBOUNCER,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the API read while the task worker writes; IMMEDIATE makes a writer take
    # the lock when its transaction begins, so concurrent writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (REDIS_URL) holds the cache, the rate-limit counters, the revocation markers and,
# in production, the task streams. With REDIS_SENTINELS every client follows the primary
# the Sentinels name (apps.common.redis_sentinel, ADR 0008).
REDIS_SENTINEL = ENV.redis_sentinel()
CACHES: dict[str, dict[str, Any]] = {
    "default": cache_config(ENV.REDIS_URL, sentinel=REDIS_SENTINEL)
}

# --- background work ----------------------------------------------------------------------
TASK_QUEUES = ["critical", "emails", "analytics", "default"]
TASKS: dict[str, dict[str, Any]] = {
    "default": tasks_config(
        ENV.TASK_BACKEND or "database",
        redis_url=ENV.REDIS_URL,
        queues=TASK_QUEUES,
        sentinel=REDIS_SENTINEL,
    )
}
TASK_RETRY_BACKOFF_SCALE = ENV.TASK_RETRY_BACKOFF_SCALE
# Seconds the relay leaves a fresh outbox message to the process that wrote it.
OUTBOX_RELAY_DELAY = ENV.OUTBOX_RELAY_DELAY
# Database-backend workers beat every TASK_HEARTBEAT_INTERVAL seconds. A task left RUNNING
# is re-queued once it started TASK_TIME_LIMIT_MAX (the longest task time limit) plus
# TASK_RECOVERY_GRACE seconds ago and its worker has not named it in a beat for the grace.
TASK_HEARTBEAT_INTERVAL = ENV.TASK_HEARTBEAT_INTERVAL
TASK_RECOVERY_GRACE = ENV.TASK_RECOVERY_GRACE
TASK_TIME_LIMIT_MAX = ENV.TASK_TIME_LIMIT_MAX

# --- auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "authentication.User"
AUTHENTICATION_BACKENDS = ["apps.authentication.backends.EmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ACCESS_TOKEN_LIFETIME_SECONDS = ENV.AUTH_ACCESS_TOKEN_TTL
REFRESH_TOKEN_LIFETIME_SECONDS = ENV.AUTH_REFRESH_TOKEN_TTL

# --- orders -------------------------------------------------------------------------------
ORDER_RESERVATION_MINUTES = ENV.ORDER_RESERVATION_MINUTES

# --- payments -------------------------------------------------------------------------------
# Locally every adapter talks to the provider sandbox (`python -m tools.sandbox`, started by
# `make run`) with its published sandbox keys; production names the real hosts and secrets.
PAYMENT_SANDBOX_URL = ENV.PAYMENT_SANDBOX_URL.rstrip("/")
PAYMENT_HTTP_TIMEOUT = ENV.PAYMENT_HTTP_TIMEOUT
PAYMENT_RECONCILE_AFTER_MINUTES = ENV.PAYMENT_RECONCILE_AFTER_MINUTES
PAYMENT_PROVIDERS: dict[str, dict[str, str]] = {
    "paystack": {
        "BASE_URL": ENV.PAYSTACK_BASE_URL or f"{PAYMENT_SANDBOX_URL}/paystack",
        "SECRET_KEY": ENV.PAYSTACK_SECRET_KEY or "sk_test_sandbox_paystack",
    },
    "stripe": {
        "BASE_URL": ENV.STRIPE_BASE_URL or f"{PAYMENT_SANDBOX_URL}/stripe",
        "SECRET_KEY": ENV.STRIPE_SECRET_KEY or "sk_test_sandbox_stripe",
        "WEBHOOK_SECRET": ENV.STRIPE_WEBHOOK_SECRET or "whsec_sandbox_stripe",
    },
    "square": {
        "BASE_URL": ENV.SQUARE_BASE_URL or f"{PAYMENT_SANDBOX_URL}/square",
        "ACCESS_TOKEN": ENV.SQUARE_ACCESS_TOKEN or "sandbox-square-token",
        "WEBHOOK_SIGNATURE_KEY": ENV.SQUARE_WEBHOOK_SIGNATURE_KEY or "sandbox-square-signature-key",
        "WEBHOOK_URL": ENV.SQUARE_WEBHOOK_URL or "http://127.0.0.1:8000/api/v2/webhooks/square/",
        "LOCATION_ID": ENV.SQUARE_LOCATION_ID or "sandbox-location",
    },
}
PAYMENT_PROVIDERS = {k: v for k, v in PAYMENT_PROVIDERS.items() if k in ENV.PAYMENT_PROVIDERS}

# --- vendor money (docs/vendor-money.md) ----------------------------------------------------
# The rate for a store that has none of its own (category rules and the store's rate come
# first); earnings are held this many days after delivery (the return window); a payout is
# made only above the currency's minimum ("*": any other currency).
MARKETPLACE_COMMISSION_RATE = ENV.MARKETPLACE_COMMISSION_RATE
PAYOUT_HOLD_DAYS = ENV.PAYOUT_HOLD_DAYS
PAYOUT_MINIMUMS = payout_minimums(ENV.PAYOUT_MINIMUMS)

# --- fulfilment (docs/fulfilment.md) --------------------------------------------------------
# A shipped parcel nobody reports is taken as delivered this many days after it left; a
# vendor is reminded of paid lines still unshipped after this many hours; an order placed
# with a one-text address is taken to be in this country.
SHIPMENT_AUTO_DELIVERY_DAYS = ENV.SHIPMENT_AUTO_DELIVERY_DAYS
UNSHIPPED_DIGEST_HOURS = ENV.UNSHIPPED_DIGEST_HOURS
MARKETPLACE_COUNTRY = ENV.MARKETPLACE_COUNTRY

# --- returns (docs/returns.md) -----------------------------------------------------------
# The return window after delivery for stores without their own policy; a request the
# store leaves unanswered this many days goes to staff; an approved return whose items do
# not come back within this many days expires.
RETURN_WINDOW_DAYS = ENV.RETURN_WINDOW_DAYS
RETURN_ESCALATE_DAYS = ENV.RETURN_ESCALATE_DAYS
RETURN_SHIP_BACK_DAYS = ENV.RETURN_SHIP_BACK_DAYS

# --- fit (docs/fit.md) ----------------------------------------------------------------------
# A product shows its fit signal only once this many customers said how its size fits.
FIT_SIGNAL_MIN_ANSWERS = ENV.FIT_SIGNAL_MIN_ANSWERS
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = True

# --- email ------------------------------------------------------------------------------
MAILERS = {"default": mailer_from_url(ENV.EMAIL_URL, VAR_DIR)}
DEFAULT_FROM_EMAIL = ENV.DEFAULT_FROM_EMAIL
SERVER_EMAIL = ENV.DEFAULT_FROM_EMAIL
SUPPORT_EMAIL = ENV.SUPPORT_EMAIL

# --- APIs -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer tokens only: the API paths carry no session (apps.common.pipeline).
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.authentication.apis.drf_auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.common.apis.drf_errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.common.apis.drf_schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["apps.common.apis.throttles.DrfRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FASHIONISTAR API v1",
    "DESCRIPTION": "Vendor and staff API: stores, products, stock, order lines, reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
    # Errors are application/problem+json (apps.common.apis.openapi).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.common.apis.openapi.drf_postprocess",
    ],
}
NINJA_PAGINATION_MAX_LIMIT = 100
# Counted in the default cache by apps.common.ratelimit, shared by v1 and v2. "anon" is
# per client address, "user" per signed-in user; "auth_ip" / "auth_account" are the
# stricter limits of the sign-in paths, per address and per account.
RATE_LIMITS = {
    "anon": ENV.RATE_LIMIT_ANON,
    "user": ENV.RATE_LIMIT_USER,
    "auth_ip": ENV.RATE_LIMIT_AUTH_IP,
    "auth_account": ENV.RATE_LIMIT_AUTH_ACCOUNT,
}
RATE_LIMIT_KEY_PREFIX = "ratelimit"
# How many reverse proxies in front of the app append to X-Forwarded-For (apps.common.http).
TRUSTED_PROXY_COUNT = ENV.TRUSTED_PROXY_COUNT

# --- logging ----------------------------------------------------------------------------
LOGGING = logging_config(level=ENV.LOG_LEVEL, fmt=ENV.LOG_FORMAT)

# --- metrics and tracing (docs/observability.md) ------------------------------------------
# Bearer token /metrics (and a worker's METRICS_PORT) demand; empty: open (local, tests).
METRICS_TOKEN = ENV.METRICS_TOKEN
# Processes without an HTTP server of their own (workers, scheduler, relay) serve their
# metrics on this port when set.
METRICS_PORT = ENV.METRICS_PORT
# prometheus_client's multiprocess mode: every process of the machine or container writes
# its samples here and /metrics aggregates them. prometheus_client reads the variable from
# the environment itself; the directory is created here, before any sample is written.
PROMETHEUS_MULTIPROC_DIR = ENV.PROMETHEUS_MULTIPROC_DIR
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

# --- security defaults (production tightens further) ------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# The API docs and the admin are the only HTML; both load their assets from this origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}
