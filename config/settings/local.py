"""The embedded local run: SQLite, local-memory cache, database task queue, emails as files.

Needs no environment variable; any of them still switches a part (``DATABASE_URL`` to
PostgreSQL, ``REDIS_URL`` to Redis, …).
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = ENV.DJANGO_DEBUG or True
SECRET_KEY = ENV.DJANGO_SECRET_KEY or "local-only-insecure-key-not-for-production"
ALLOWED_HOSTS = ENV.DJANGO_ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
