"""The task the queue benchmark enqueues: it reports when it started."""

from __future__ import annotations

import os
import time

import redis

from apps.common.background import background_task


@background_task(queue="default", retries=0)
def stamp(enqueued_at: float) -> None:
    started = time.time()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.rpush("bench:latencies", f"{enqueued_at},{started}")
