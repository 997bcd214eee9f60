"""Typed settings read from the environment (12-factor), validated at start.

Every variable is optional for the embedded local run; production refuses to start
without the ones it needs (see ``config.settings.production``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from apps.common.ratelimit import Rate
from config.dbpool import check_if_idle, mark_returned

BASE_DIR = Path(__file__).resolve().parent.parent


class Env(BaseSettings):
    """The environment variables FASHIONISTAR reads; README.md documents each one."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True)

    DJANGO_SECRET_KEY: str = ""
    DJANGO_DEBUG: bool = False
    DJANGO_ALLOWED_HOSTS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    DJANGO_CSRF_TRUSTED_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    DATABASE_URL: str = ""
    DATABASE_POOL_MIN_SIZE: int = Field(default=2, ge=0)
    DATABASE_POOL_MAX_SIZE: int = Field(default=20, ge=1)
    DATABASE_POOL_TIMEOUT: float = Field(default=5.0, gt=0)
    DATABASE_PGBOUNCER: bool = False
    API_MAX_BODY_BYTES: int = Field(default=1_048_576, ge=1024)
    API_MAX_WEBHOOK_BODY_BYTES: int = Field(default=524_288, ge=1024)
    REDIS_URL: str = ""
    REDIS_SENTINELS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    REDIS_SENTINEL_MASTER: str = Field(default="fashionistar", pattern=r"^[\w.-]+$")
    REDIS_SENTINEL_PASSWORD: str = ""
    TASK_BACKEND: str = Field(default="", pattern="^(|database|redis|immediate)$")
    TASK_RETRY_BACKOFF_SCALE: float = Field(default=1.0, gt=0)
    OUTBOX_RELAY_DELAY: float = Field(default=5.0, ge=0)
    TASK_HEARTBEAT_INTERVAL: float = Field(default=5.0, gt=0)
    TASK_RECOVERY_GRACE: float = Field(default=30.0, gt=0)
    TASK_TIME_LIMIT_MAX: float = Field(default=30.0, gt=0)
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = Field(default="json", pattern="^(json|console)$")
    VAR_DIR: Path = BASE_DIR / "var"
    EMAIL_URL: str = ""
    DEFAULT_FROM_EMAIL: str = "FASHIONISTAR <no-reply@fashionistar.local>"
    SUPPORT_EMAIL: str = "support@fashionistar.local"
    AUTH_ACCESS_TOKEN_TTL: int = Field(default=900, ge=60, le=86400)
    AUTH_REFRESH_TOKEN_TTL: int = Field(default=14 * 86400, ge=3600)
    ORDER_RESERVATION_MINUTES: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # Vendor money (docs/vendor-money.md).
    MARKETPLACE_COMMISSION_RATE: Decimal = Field(default=Decimal("10.00"), ge=0, le=100)
    PAYOUT_HOLD_DAYS: int = Field(default=7, ge=0, le=365)
    PAYOUT_MINIMUMS: str = "NGN:5000.00,GHS:50.00,KES:1000.00,ZAR:100.00,*:20.00"
    # Fulfilment (docs/fulfilment.md).
    SHIPMENT_AUTO_DELIVERY_DAYS: int = Field(default=14, ge=1, le=120)
    UNSHIPPED_DIGEST_HOURS: int = Field(default=48, ge=1, le=24 * 30)
    MARKETPLACE_COUNTRY: str = Field(default="NG", pattern=r"^[A-Z]{2}$")
    # Returns (docs/returns.md).
    RETURN_WINDOW_DAYS: int = Field(default=14, ge=0, le=365)
    RETURN_ESCALATE_DAYS: int = Field(default=3, ge=1, le=60)
    RETURN_SHIP_BACK_DAYS: int = Field(default=21, ge=1, le=120)
    # Fit (docs/fit.md).
    FIT_SIGNAL_MIN_ANSWERS: int = Field(default=5, ge=1, le=10_000)
    PAYMENT_PROVIDERS: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["paystack", "stripe", "square"]
    )
    PAYMENT_SANDBOX_URL: str = "http://127.0.0.1:8001"
    PAYMENT_HTTP_TIMEOUT: float = Field(default=10.0, gt=0, le=60)
    PAYMENT_RECONCILE_AFTER_MINUTES: int = Field(default=15, ge=1)
    PAYSTACK_BASE_URL: str = ""
    PAYSTACK_SECRET_KEY: str = ""
    STRIPE_BASE_URL: str = ""
    STRIPE_SECRET_KEY: str = ""
    STRIPE_WEBHOOK_SECRET: str = ""
    SQUARE_BASE_URL: str = ""
    SQUARE_ACCESS_TOKEN: str = ""
    SQUARE_WEBHOOK_SIGNATURE_KEY: str = ""
    SQUARE_WEBHOOK_URL: str = ""
    SQUARE_LOCATION_ID: str = ""
    RATE_LIMIT_ANON: str = "100/hour"
    RATE_LIMIT_USER: str = "1000/hour"
    RATE_LIMIT_AUTH_IP: str = "30/10m"
    RATE_LIMIT_AUTH_ACCOUNT: str = "10/hour"
    TRUSTED_PROXY_COUNT: int = Field(default=0, ge=0)
    # Observability (docs/observability.md). Production refuses a missing or weak
    # METRICS_TOKEN unless METRICS_PUBLIC=true says /metrics is protected otherwise.
    METRICS_TOKEN: str = ""
    METRICS_PUBLIC: bool = False
    METRICS_PORT: int | None = Field(default=None, ge=1, le=65535)
    PROMETHEUS_MULTIPROC_DIR: str = ""

    @field_validator(
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "PAYMENT_PROVIDERS",
        "REDIS_SENTINELS",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _known_database_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in DATABASE_ENGINES:
            raise ValueError(f"scheme must be one of {sorted(DATABASE_ENGINES)}")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("scheme must be redis://, rediss:// or unix://")
        return value

    @field_validator("REDIS_SENTINELS")
    @classmethod
    def _sentinel_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            sentinel_address(item)  # its ValueError names the accepted form
        return value

    @model_validator(mode="after")
    def _sentinels_need_a_redis_url(self) -> Env:
        if self.REDIS_SENTINELS:
            scheme = urlsplit(self.REDIS_URL).scheme
            if scheme not in {"redis", "rediss"}:
                raise ValueError(
                    "REDIS_SENTINELS needs REDIS_URL (redis:// or rediss://) for the database"
                    " number and password of the monitored Redis"
                )
        return self

    def redis_sentinel(self) -> RedisSentinel | None:
        """Where the Sentinels are, when Redis is Sentinel-managed (``REDIS_SENTINELS``)."""
        if not self.REDIS_SENTINELS:
            return None
        return RedisSentinel(
            sentinels=tuple(sentinel_address(item) for item in self.REDIS_SENTINELS),
            master=self.REDIS_SENTINEL_MASTER,
            password=self.REDIS_SENTINEL_PASSWORD,
        )

    @field_validator("PAYOUT_MINIMUMS")
    @classmethod
    def _payout_minimums(cls, value: str) -> str:
        payout_minimums(value)  # its ValueError names the accepted form
        return value

    @field_validator(
        "RATE_LIMIT_ANON", "RATE_LIMIT_USER", "RATE_LIMIT_AUTH_IP", "RATE_LIMIT_AUTH_ACCOUNT"
    )
    @classmethod
    def _parsable_rate(cls, value: str) -> str:
        Rate.parse(value)  # its ValueError names the accepted form
        return value


@dataclass(frozen=True)
class RedisSentinel:
    """A Sentinel-managed Redis: the Sentinels' addresses and the name they monitor it by.

    ``REDIS_URL`` still gives the database number, the password (and ``rediss://`` for
    TLS) of the monitored Redis; its host and port are not used — the Sentinels name the
    current primary.
    """

    sentinels: tuple[tuple[str, int], ...]
    master: str
    password: str = field(default="", repr=False)

    def options(self) -> dict[str, Any]:
        """The keys ``apps.common.redis_sentinel`` takes in ``CACHES[...]["OPTIONS"]``."""
        return {
            "sentinels": [list(address) for address in self.sentinels],
            "service_name": self.master,
            "sentinel_password": self.password,
        }


SENTINEL_DEFAULT_PORT = 26379


def payout_minimums(value: str) -> dict[str, Decimal]:
    """``NGN:5000.00,*:20.00`` → the smallest payout per currency (``*``: any other)."""
    minimums: dict[str, Decimal] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        currency, _, amount = item.strip().partition(":")
        try:
            minimum = Decimal(amount)
        except InvalidOperation:
            minimum = Decimal(-1)
        if not (currency == "*" or (len(currency) == 3 and currency.isalpha())) or not (
            minimum.is_finite() and minimum > 0
        ):
            raise ValueError(f"{item!r} is not CUR:amount (e.g. NGN:5000.00,*:20.00)")
        minimums[currency.upper()] = minimum
    return minimums


def sentinel_address(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6::addr]:port``; the port defaults to 26379) → ``(host, port)``."""
    text = value.strip()
    parts = urlsplit(f"//{text}")
    try:
        port = SENTINEL_DEFAULT_PORT if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not parts.hostname or not 0 < port < 65536 or parts.username or parts.path:
        raise ValueError(f"{value!r} is not host:port (e.g. sentinel-1:26379)")
    return parts.hostname, port


DATABASE_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


#: Runs of one statement on a connection before psycopg prepares it (psycopg's default).
PREPARE_THRESHOLD = 5


def database_from_url(
    url: str, *, pool_min: int, pool_max: int, pool_timeout: float, pgbouncer: bool
) -> dict[str, Any]:
    """Turn ``DATABASE_URL`` into a Django ``DATABASES`` entry.

    PostgreSQL gets psycopg's connection pool (sized for async views, where each request
    may hold a connection on its own thread) unless it sits behind PgBouncer in transaction
    mode, which pools for us and cannot keep server-side cursors or prepared statements.
    """
    parts = urlsplit(url)
    engine = DATABASE_ENGINES[parts.scheme]
    if engine.endswith("sqlite3"):
        name = unquote(parts.path[1:] if parts.path.startswith("//") else parts.path)
        return {"ENGINE": engine, "NAME": name or ":memory:"}
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    config: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_HEALTH_CHECKS": True,
    }
    options.setdefault("connect_timeout", "5")
    if pgbouncer:
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None
    else:
        options["pool"] = {
            "min_size": pool_min,
            "max_size": pool_max,
            "timeout": pool_timeout,
            # Probe only connections that idled a while (config/dbpool.py).
            "check": check_if_idle,
            "reset": mark_returned,
        }
        # Parameters bound by the server, and a statement prepared once it has run this
        # many times on a connection: PostgreSQL then skips parsing and planning it.
        # (Django turns psycopg's preparing off unless it is asked for here.)
        options["server_side_binding"] = True
        options["prepare_threshold"] = PREPARE_THRESHOLD
    config["OPTIONS"] = options
    return config


def mailer_from_url(url: str, var_dir: Path) -> dict[str, Any]:
    """``EMAIL_URL`` (``smtp://user:pass@host:587?tls=1`` or ``smtps://…``) → a MAILERS entry.

    With no URL every email is written as a file under ``var/mail/``.
    """
    if not url:
        return {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(var_dir / "mail")},
        }
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError("EMAIL_URL must start with smtp:// or smtps://")
    query = dict(parse_qsl(parts.query))
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 587),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": parts.scheme == "smtps",
            "use_tls": parts.scheme == "smtp" and query.get("tls", "1") not in {"0", "false"},
            "timeout": 10,
        },
    }


def cache_config(redis_url: str, *, sentinel: RedisSentinel | None = None) -> dict[str, Any]:
    """The default ``CACHES`` entry: Redis (followed through its Sentinels when given),
    or the process' local memory without ``REDIS_URL``."""
    if not redis_url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "fashionistar",
        }
    options: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2}
    if sentinel is not None:
        options.update(pool_class="apps.common.redis_sentinel.SentinelPool", **sentinel.options())
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "fashionistar",
        "OPTIONS": options,
    }


def tasks_config(
    backend: str, *, redis_url: str, queues: list[str], sentinel: RedisSentinel | None = None
) -> dict[str, Any]:
    """The ``TASKS`` setting: the database queue (embedded), Redis streams, or immediate.

    With ``sentinel`` the Redis backend follows the primary its Sentinels name and counts
    a task as sent only once a replica holds it (ADR 0008)."""
    if backend == "redis":
        if not redis_url:
            raise ValueError("TASK_BACKEND=redis needs REDIS_URL")
        config: dict[str, Any] = {
            "BACKEND": "django_tasks_redis.RedisTaskBackend",
            "QUEUES": queues,
            "OPTIONS": {
                "REDIS_URL": redis_url,
                "REDIS_KEY_PREFIX": "fashionistar:tasks",
                "REDIS_CLAIM_TIMEOUT": 120,
                "REDIS_MAX_DELIVERIES": 5,
                "REDIS_SOCKET_CONNECT_TIMEOUT": 5,
                "REDIS_HEALTH_CHECK_INTERVAL": 30,
            },
        }
        if sentinel is not None:
            config["BACKEND"] = "apps.common.redis_sentinel.SentinelRedisTaskBackend"
            config["OPTIONS"].update(
                REDIS_SENTINELS=[list(address) for address in sentinel.sentinels],
                REDIS_SENTINEL_MASTER=sentinel.master,
                REDIS_SENTINEL_PASSWORD=sentinel.password,
                REDIS_REPLICA_ACKS=1,
                REDIS_REPLICA_ACK_TIMEOUT=0.5,
            )
        return config
    if backend == "immediate":
        return {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": queues}
    return {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues}


def load_env() -> Env:
    return Env()
