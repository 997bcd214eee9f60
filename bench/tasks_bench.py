"""``make bench-tasks``: enqueue→start latency and throughput of the Redis task queue with
two worker processes on this machine.

Phase 1 (throughput): a burst of tasks, timed from the first enqueue to the last start.
Phase 2 (latency): tasks enqueued at a steady rate well under capacity; p50/p95 of the
time from enqueue to the task starting in a worker. The blueprint's floor is p95 < 2 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.local",
    TASK_BACKEND="redis",
    REDIS_URL=REDIS_URL,
    LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import redis  # noqa: E402

from bench.tasks import stamp  # noqa: E402


def wait_for(client: redis.Redis, count: int, timeout: float = 300) -> list[tuple[float, float]]:
    deadline = time.monotonic() + timeout
    while client.llen("bench:latencies") < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {client.llen('bench:latencies')} of {count} tasks ran")
        time.sleep(0.05)
    pairs = []
    for item in client.lrange("bench:latencies", 0, -1):
        text = item.decode() if isinstance(item, bytes) else str(item)
        enqueued, started = text.split(",")
        pairs.append((float(enqueued), float(started)))
    return pairs


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    burst = int(os.environ.get("BENCH_BURST", "1000"))
    rate = float(os.environ.get("BENCH_RATE", "50"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_redis_tasks", "--continuous"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        stamp.enqueue(time.time())  # warm both the queue and a worker
        wait_for(client, 1)
        client.delete("bench:latencies")

        first = time.time()
        for _ in range(burst):
            stamp.enqueue(time.time())
        results = wait_for(client, burst)
        span = max(started for _, started in results) - first
        print(f"throughput: {burst} tasks in {span:.2f} s = {burst / span:.0f} tasks/s (2 workers)")

        client.delete("bench:latencies")
        total = int(rate * seconds)
        start = time.monotonic()
        for index in range(total):
            time.sleep(max(0.0, start + index / rate - time.monotonic()))
            stamp.enqueue(time.time())
        results = wait_for(client, total)
        latencies = [started - enqueued for enqueued, started in results]
        print(
            f"latency at {rate:.0f} tasks/s: p50 {percentile(latencies, 50) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
            f"(floor: p95 < 2000 ms)"
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        client.flushdb()


if __name__ == "__main__":
    main()
