"""Settings for the test suite: the local defaults with fast hashing and in-memory email.

``DATABASE_URL`` / ``REDIS_URL`` switch the suite to PostgreSQL / Redis (``make test``
runs it both ways).
"""

import os

from config.env import tasks_config
from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, DATABASES, ENV, TASK_QUEUES

DEBUG = False
SECRET_KEY = "test-only-insecure-key"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Tasks run inline by default; the task-layer tests start real worker processes on the
# database backend ("database") and, when REDIS_URL is set, on Redis ("redis").
TASKS = {
    "default": tasks_config("immediate", redis_url="", queues=TASK_QUEUES),
    "database": tasks_config("database", redis_url="", queues=TASK_QUEUES),
}
if ENV.REDIS_URL:
    TASKS["redis"] = tasks_config("redis", redis_url=ENV.REDIS_URL, queues=TASK_QUEUES)
    TASKS["redis"]["OPTIONS"].update(
        REDIS_KEY_PREFIX=os.environ.setdefault(
            "TEST_TASKS_PREFIX", f"fashionistar-test:{os.getpid()}"
        ),
        REDIS_CLAIM_TIMEOUT=3,
        REDIS_BLOCK_TIMEOUT=200,
    )
TASK_RETRY_BACKOFF_SCALE = 0.005  # 60/120/240 s become 0.3/0.6/1.2 s
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so worker processes started by tests share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(ENV.VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
VAR_DIR = ENV.VAR_DIR / "test"

# Processes started by the fault tests (relay, workers) take their task backend and their
# mail directory from the test that starts them; with REDIS_SENTINELS in their environment
# the backend follows the Sentinels, as the cache does.
if os.environ.get("TEST_DEFAULT_TASKS_REDIS_URL"):
    TASKS["default"] = tasks_config(
        "redis",
        redis_url=os.environ["TEST_DEFAULT_TASKS_REDIS_URL"],
        queues=TASK_QUEUES,
        sentinel=ENV.redis_sentinel(),
    )
    TASKS["default"]["OPTIONS"].update(
        REDIS_KEY_PREFIX=os.environ.get("TEST_TASKS_PREFIX", "fashionistar-test"),
        REDIS_CLAIM_TIMEOUT=3,
        REDIS_BLOCK_TIMEOUT=200,
        REDIS_SOCKET_CONNECT_TIMEOUT=1,
    )
if os.environ.get("TEST_EMAIL_DIR"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": os.environ["TEST_EMAIL_DIR"]},
        }
    }

# The suite runs many processes at once on a small machine: a Redis answer slower than the
# production 2 s read timeout is load there, not a fault under test (the fault tests stop
# or point at an unreachable Redis instead), and a timed-out read would fail open.
if "socket_timeout" in CACHES["default"].get("OPTIONS", {}):
    CACHES["default"]["OPTIONS"]["socket_timeout"] = 10
