"""Settings for the test suite: the local defaults with fast hashing and in-memory email.

``DATABASE_URL`` / ``REDIS_URL`` switch the suite to PostgreSQL / Redis (``make test``
runs it both ways).
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = False
SECRET_KEY = "test-only-insecure-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["critical", "emails", "analytics", "default"],
    }
}
VAR_DIR = ENV.VAR_DIR / "test"
