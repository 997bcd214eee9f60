"""``make bench``: the customer API against the floor app, driven by wrk.

Steps: a PostgreSQL database and a Redis db of the benchmark's own (migrated and seeded
with the demo data, or reused with ``SKIP_SEED=1``); tokens, ids and stock prepared
through the app's code (``bench.http.prepare``); the app under granian with production
settings and the floor (``bench.http.floor``) with the same worker count; one request of
each scenario to both, compared; a warm-up; then for every scenario and connection count
app / floor / app / floor runs of wrk. Prints a table and writes
``bench/results/latest.json``. Everything it started is stopped when it ends, fails or is
interrupted.

Knobs (environment variables, all optional) are listed in ``Knobs`` and in
``docs/performance.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
WORK_DIR = ROOT / "var" / "bench"
DATA_DIR = WORK_DIR / "data"
RESULTS = ROOT / "bench" / "results" / "latest.json"
HTTPS = {"X-Forwarded-Proto": "https"}  # production redirects plain-HTTP requests
RAISED_RATE = "100000000/hour"
ALL_SCENARIOS = (
    "product_detail",
    "product_list",
    "product_list_filtered",
    "order_detail",
    "order_create_1",
    "order_create_5",
)


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


@dataclass(frozen=True)
class Knobs:
    """What a run does, from the environment (``docs/performance.md`` lists them)."""

    scenarios: list[str]
    connections: list[int]
    duration: int  # seconds per wrk run
    warmup: int  # seconds per server and scenario before the measured runs; 0: none
    repeats: int  # measured runs per server, alternating app / floor
    skip_floor: bool
    skip_seed: bool
    workers: int
    threads: int
    list_filter: str
    database: str
    postgres: str
    redis: str
    app_port: int
    floor_port: int
    results: Path
    pool_max: int  # database connections per server process (the app's DATABASE_POOL_MAX_SIZE)

    @classmethod
    def from_env(cls) -> Knobs:
        scenarios = _env_list("SCENARIOS", ",".join(ALL_SCENARIOS))
        unknown = sorted(set(scenarios) - set(ALL_SCENARIOS))
        if unknown:
            raise SystemExit(f"unknown SCENARIOS {unknown}; known: {', '.join(ALL_SCENARIOS)}")
        cores = os.cpu_count() or 1
        return cls(
            scenarios=scenarios,
            connections=[int(c) for c in _env_list("CONNECTIONS", "10,100")],
            duration=int(os.environ.get("DURATION", "10")),
            warmup=int(os.environ.get("WARMUP", "3")),
            repeats=int(os.environ.get("REPEATS", "2")),
            skip_floor=_env_bool("SKIP_FLOOR"),
            skip_seed=_env_bool("SKIP_SEED"),
            workers=int(os.environ.get("WORKERS", str(cores))),
            threads=int(os.environ.get("WRK_THREADS", str(cores))),
            list_filter=os.environ.get("LIST_FILTER", "category=women"),
            database=os.environ.get("BENCH_DATABASE", "fashionistar_bench"),
            postgres=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
            redis=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            app_port=int(os.environ.get("APP_PORT", "8100")),
            floor_port=int(os.environ.get("FLOOR_PORT", "8101")),
            results=Path(os.environ.get("BENCH_RESULTS", str(RESULTS))),
            pool_max=int(os.environ.get("DB_POOL_MAX", "20")),
        )

    @property
    def database_url(self) -> str:
        return f"{self.postgres.rstrip('/')}/{self.database}"


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # the URL path wrk is given (and the smoke request's, with sample ids)
    script: str
    args: tuple[str, ...] = ()


def scenarios(knobs: Knobs) -> dict[str, Scenario]:
    data = str(DATA_DIR)
    variants, tokens = f"{data}/variants.txt", f"{data}/tokens.txt"
    known = {
        "product_detail": Scenario(
            "product_detail",
            "GET",
            "/api/v2/products/",
            "by_id.lua",
            (f"{data}/products.txt", "/api/v2/products/"),
        ),
        "product_list": Scenario("product_list", "GET", "/api/v2/products/?limit=20", "fixed.lua"),
        "product_list_filtered": Scenario(
            "product_list_filtered",
            "GET",
            f"/api/v2/products/?limit=20&{knobs.list_filter}",
            "fixed.lua",
        ),
        "order_detail": Scenario(
            "order_detail", "GET", "/api/v2/orders/", "own_order.lua", (f"{data}/orders.txt",)
        ),
        "order_create_1": Scenario(
            "order_create_1", "POST", "/api/v2/orders/", "order_create.lua", (tokens, variants, "1")
        ),
        "order_create_5": Scenario(
            "order_create_5", "POST", "/api/v2/orders/", "order_create.lua", (tokens, variants, "5")
        ),
    }
    return {name: known[name] for name in knobs.scenarios}


# --- output ---------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def _ms(microseconds: float) -> float:
    return round(microseconds / 1000, 2)


# --- processes ------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _memory(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"VmHWM", "VmRSS"}:
                values[key] = round(int(rest.split()[0]) / 1024, 1)
    except OSError:
        pass
    return {"peak_rss_mb": values.get("VmHWM", 0.0), "rss_mb": values.get("VmRSS", 0.0)}


@dataclass
class Server:
    """A granian server in its own process group, so stopping it stops its workers."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = field(default=None, repr=False)
    _pgid_file: Path | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, pgid_file: Path | None) -> None:
        self._pgid_file = pgid_file
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken: set APP_PORT / FLOOR_PORT")
        self._log = self.log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if pgid_file is not None:
            with pgid_file.open("a") as handle:
                handle.write(f"{self.process.pid}\n")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        tree, found, frontier = _children(), [], [self.process.pid]
        while frontier:
            frontier = [child for pid in frontier for child in tree.get(pid, [])]
            found.extend(frontier)
        return found

    def memory(self) -> list[dict[str, Any]]:
        if self.process is None:
            return []
        rows = [{"pid": self.process.pid, "role": "main", **_memory(self.process.pid)}]
        rows += [{"pid": pid, "role": "worker", **_memory(pid)} for pid in self.workers()]
        return rows

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        # Workers left behind by a main process that died first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
        if self._pgid_file is not None and self._pgid_file.exists():
            # Forget the group once it is gone, so no later clean-up signals a reused id.
            kept = [g for g in self._pgid_file.read_text().split() if g != str(self.process.pid)]
            self._pgid_file.write_text("".join(f"{g}\n" for g in kept))


def _request(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - local URL
    for key, value in {**HTTPS, **(headers or {})}.items():
        request.add_header(key, value)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")[:500]


def _wait_ready(server: Server, path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if not server.alive():
            raise SystemExit(f"{server.name} exited at start; see {server.log}")
        try:
            status, body = _request(server.url + path)
            if status == 200:
                return
            last = (status, body)
        except OSError as error:
            last = error
        time.sleep(0.25)
    raise SystemExit(f"{server.name} not ready after {timeout:.0f} s: {last}; see {server.log}")


# --- setup ----------------------------------------------------------------------------------


def _run(argv: list[str], env: dict[str, str], log: TextIO, what: str) -> None:
    log.write(f"\n$ {' '.join(argv)}\n")
    log.flush()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"{what} failed (exit {done.returncode}); see {log.name}")


def database_prepare(knobs: Knobs, env: dict[str, str], log: TextIO) -> str:
    """Create (or with ``SKIP_SEED``, reuse) the benchmark database, migrate and seed it."""
    import psycopg
    from psycopg import sql as pgsql

    name = pgsql.Identifier(knobs.database)
    with psycopg.connect(f"{knobs.postgres.rstrip('/')}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (knobs.database,)
        ).fetchone()
        seeded = False
        if exists and knobs.skip_seed:
            with psycopg.connect(knobs.database_url) as bench:
                seeded = bool(
                    bench.execute(
                        "SELECT to_regclass('catalog_product') IS NOT NULL "
                        "AND EXISTS (SELECT 1 FROM catalog_product)"
                    ).fetchone()
                    == (True,)
                )
        if not seeded:
            admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(pgsql.SQL("CREATE DATABASE {}").format(name))
    python = str(BIN / "python")
    _run([python, "manage.py", "migrate", "--noinput"], env, log, "migrate")
    if seeded:
        return "reused"
    _run([python, "manage.py", "seed_demo", "--no-progress"], env, log, "seed_demo")
    return "created"


def pool_fit(knobs: Knobs) -> tuple[int, str]:
    """The pool size per server process that fits in PostgreSQL's free connections.

    Both servers stay up for the whole run and pools keep their idle connections, so they
    may hold ``2 x workers x pool`` connections at once. When other clients leave too few
    free, both pools are shrunk alike (the comparison stays fair) and the run says so.
    """
    import psycopg

    with psycopg.connect(f"{knobs.postgres.rstrip('/')}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT current_setting('max_connections')::int "
            "- current_setting('superuser_reserved_connections')::int "
            "- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    free = int(row[0]) if row else 0
    servers = 1 if knobs.skip_floor else 2
    spare = 4  # this runner, psql, a stray client
    if servers * knobs.workers * knobs.pool_max + spare <= free:
        return knobs.pool_max, ""
    fitted = max(2, (free - spare) // (servers * knobs.workers))
    note = (
        f"PostgreSQL has {free} free connections (other clients hold the rest): database "
        f"pool lowered from {knobs.pool_max} to {fitted} per server process, app and floor alike"
    )
    return fitted, note


def redis_prepare(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()  # the benchmark's own db: counters, revocations and tasks of old runs
    client.close()


def app_environment(knobs: Knobs) -> dict[str, str]:
    """Production settings with a fresh secret, the benchmark's database and Redis db,
    a dummy payment provider and rate limits out of the way."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "RATE_LIMIT_", "PAYSTACK_", "STRIPE_"))
        and not key.startswith(("SQUARE_", "GRANIAN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        METRICS_TOKEN=secrets.token_urlsafe(32),  # production refuses to start without one
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_DEBUG="false",
        DATABASE_URL=knobs.database_url,
        REDIS_URL=knobs.redis,
        TASK_BACKEND="redis",
        EMAIL_URL="smtp://127.0.0.1:1025",
        PAYMENT_PROVIDERS="paystack",
        PAYSTACK_SECRET_KEY="sk_bench_" + secrets.token_hex(16),
        PAYSTACK_BASE_URL="http://127.0.0.1:9",
        AUTH_ACCESS_TOKEN_TTL="86400",  # noqa: S106 - seconds: tokens outlive the run
        RATE_LIMIT_ANON=RAISED_RATE,
        RATE_LIMIT_USER=RAISED_RATE,
        RATE_LIMIT_AUTH_IP=RAISED_RATE,
        RATE_LIMIT_AUTH_ACCOUNT=RAISED_RATE,
        PYTHONUNBUFFERED="1",
    )
    return env


def _granian(knobs: Knobs, interface: str, target: str, port: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(knobs.workers),
        "--no-access-log",
        target,
    ]


# --- checks ---------------------------------------------------------------------------------

_DECIMAL = re.compile(r"-?\d+\.\d+")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?(Z|[+-]\d\d:\d\d)")


def shape(value: Any) -> Any:
    """The JSON's keys and value kinds (``decimal``/``datetime`` strings told apart)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value):
            return "decimal"
        return "datetime" if _DATETIME.fullmatch(value) else "str"
    return type(value).__name__


def _sample_request(scenario: Scenario, meta: dict[str, Any]) -> dict[str, Any]:
    sample = meta["sample"]
    if scenario.name == "product_detail":
        return {"path": f"{scenario.path}{sample['product_id']}/"}
    if scenario.name == "order_detail":
        return {
            "path": f"{scenario.path}{sample['order_id']}/",
            "headers": {"Authorization": f"Bearer {sample['order_token']}"},
        }
    if scenario.method == "POST":
        lines = int(scenario.args[2])
        return {
            "path": scenario.path,
            "method": "POST",
            "headers": {
                "Authorization": f"Bearer {sample['buyer_token']}",
                "Idempotency-Key": f"bench-check-{secrets.token_hex(8)}",
            },
            "body": {
                "items": [{"variant_id": v, "quantity": 1} for v in sample["variant_ids"][:lines]],
                "delivery_address": "12 Admiralty Way, Lekki Phase 1, Lagos",
            },
        }
    return {"path": scenario.path}


def smoke_and_compare(
    plan: dict[str, Scenario], meta: dict[str, Any], app: Server, floor: Server | None
) -> dict[str, str]:
    """One request of each scenario to each server: all must succeed; the answers must be
    equal (reads) or of the same shape (order creation). Returns a verdict per scenario."""
    verdicts: dict[str, str] = {}
    for scenario in plan.values():
        sample = _sample_request(scenario, meta)
        path = sample.pop("path")
        answers = {}
        for server in (app, floor):
            if server is None:
                continue
            headers = dict(sample.get("headers", {}))
            if "Idempotency-Key" in headers:
                headers["Idempotency-Key"] += f"-{server.name}"
            status, body = _request(
                server.url + path,
                method=sample.get("method", "GET"),
                headers=headers,
                body=sample.get("body"),
            )
            if not 200 <= status < 300:
                raise SystemExit(f"{server.name} answered {status} to {scenario.name}: {body}")
            answers[server.name] = body
        if floor is None:
            verdicts[scenario.name] = "app only"
        elif scenario.method == "GET" and answers["app"] == answers["floor"]:
            verdicts[scenario.name] = "same JSON"
        elif shape(answers["app"]) == shape(answers["floor"]):
            verdicts[scenario.name] = "same shape" + (
                "" if scenario.method == "POST" else " (values differ)"
            )
        else:
            verdicts[scenario.name] = "DIFFERENT shape"
            (WORK_DIR / f"diff-{scenario.name}.json").write_text(json.dumps(answers, indent=1))
    return verdicts


# --- wrk ------------------------------------------------------------------------------------


def wrk(server: Server, scenario: Scenario, connections: int, seconds: int, threads: int) -> Any:
    argv = [
        "wrk",
        f"-t{max(1, min(threads, connections))}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        *[arg for key, value in HTTPS.items() for arg in ("-H", f"{key}: {value}")],
        "-s",
        str(WRK_DIR / scenario.script),
        server.url + scenario.path,
        "--",
        *scenario.args,
    ]
    done = subprocess.run(  # noqa: S603
        argv,
        cwd=WRK_DIR,
        env={**os.environ, "BENCH_WRK_DIR": str(WRK_DIR)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed on {scenario.name}: {done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": _ms(raw["p50_us"]),
        "p90_ms": _ms(raw["p90_us"]),
        "p99_ms": _ms(raw["p99_us"]),
        "errors": errors,
        "requests": raw["requests"],
        "statuses": raw["statuses"],
        "socket_errors": {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]},
    }


Results = dict[str, dict[str, dict[str, Any]]]  # scenario → connections → summary row


def summarise(app_runs: list[dict[str, Any]], floor_runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rps": round(mean(r["rps"] for r in app_runs), 1),
        "p50_ms": round(mean(r["p50_ms"] for r in app_runs), 2),
        "p90_ms": round(mean(r["p90_ms"] for r in app_runs), 2),
        "p99_ms": round(mean(r["p99_ms"] for r in app_runs), 2),
        "errors": sum(r["errors"] for r in app_runs),
        "floor_rps": None,
        "floor_p50_ms": None,
        "floor_p99_ms": None,
        "floor_errors": None,
        "ratio": None,
    }
    if floor_runs:
        row.update(
            floor_rps=round(mean(r["rps"] for r in floor_runs), 1),
            floor_p50_ms=round(mean(r["p50_ms"] for r in floor_runs), 2),
            floor_p99_ms=round(mean(r["p99_ms"] for r in floor_runs), 2),
            floor_errors=sum(r["errors"] for r in floor_runs),
        )
        if row["floor_rps"]:
            row["ratio"] = round(row["rps"] / row["floor_rps"], 3)
    row["void"] = bool(row["errors"] or row["floor_errors"])
    row["runs"] = {"app": app_runs, "floor": floor_runs}
    return row


def table(results: Results) -> str:
    head = (
        f"{'scenario':<22} {'conns':>5} {'app rps':>9} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'floor rps':>10} {'ratio':>6}  errors"
    )
    lines = [head, "-" * len(head)]
    for name, by_conns in results.items():
        for conns, row in by_conns.items():
            floor_rps = f"{row['floor_rps']:.1f}" if row["floor_rps"] is not None else "-"
            ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
            errors = (
                f"{row['errors']}/{row['floor_errors'] if row['floor_errors'] is not None else '-'}"
            )
            void = "  VOID" if row["void"] else ""
            lines.append(
                f"{name:<22} {conns:>5} {row['rps']:>9.1f} {row['p50_ms']:>8.1f} "
                f"{row['p90_ms']:>8.1f} {row['p99_ms']:>8.1f} {floor_rps:>10} {ratio:>6}  "
                f"{errors}{void}"
            )
    return "\n".join(lines)


# --- the run --------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def measure(plan: dict[str, Scenario], servers: list[Server], knobs: Knobs) -> Results:
    """Warm each server on each scenario, then app / floor / app / floor runs of wrk per
    connection count; returns the summary rows by scenario and connection count."""
    results: Results = {}
    for scenario in plan.values():
        if knobs.warmup:
            for server in servers:
                wrk(server, scenario, max(knobs.connections), knobs.warmup, knobs.threads)
        results[scenario.name] = {}
        for conns in knobs.connections:
            runs: dict[str, list[dict[str, Any]]] = {server.name: [] for server in servers}
            for attempt in range(1, knobs.repeats + 1):
                for server in servers:
                    time.sleep(1)  # let the last run's connections close
                    result = wrk(server, scenario, conns, knobs.duration, knobs.threads)
                    runs[server.name].append(result)
                    say(
                        f"  {scenario.name:<22} c={conns:<4} {server.name:<5} #{attempt}: "
                        f"{result['rps']:>8.1f} rps  p50 {result['p50_ms']:>7.1f} ms  "
                        f"p99 {result['p99_ms']:>7.1f} ms  errors {result['errors']}"
                    )
            results[scenario.name][str(conns)] = summarise(runs["app"], runs.get("floor", []))
    return results


def main() -> int:
    knobs = Knobs.from_env()
    plan = scenarios(knobs)
    started, started_at, load_start = time.monotonic(), datetime.now(UTC), os.getloadavg()
    source = _git()  # the code under test is the code at the start
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    pgid_file = Path(os.environ["BENCH_PGID_FILE"]) if os.environ.get("BENCH_PGID_FILE") else None
    servers: list[Server] = []
    per_server = knobs.warmup + len(knobs.connections) * knobs.repeats * (knobs.duration + 1)
    estimate = len(plan) * (1 if knobs.skip_floor else 2) * per_server
    say(
        f"make bench: {len(plan)} scenario(s) x connections {knobs.connections}, "
        f"{knobs.duration} s per run, {knobs.workers} worker(s) per server"
        f"{', no floor' if knobs.skip_floor else ''}; about {estimate // 60 + 1} min of load"
    )
    with _terminate_on_sigterm():
        try:
            env = app_environment(knobs)
            pool_max, pool_note = pool_fit(knobs)
            # Pools open full (min = max) so that a busy PostgreSQL cannot starve one server
            # halfway through the run; under load both would grow to the maximum anyway.
            env["DATABASE_POOL_MIN_SIZE"] = env["DATABASE_POOL_MAX_SIZE"] = str(pool_max)
            if pool_note:
                say(f"WARNING: {pool_note}")
            with (WORK_DIR / "setup.log").open("w") as log:
                database = database_prepare(knobs, env, log)
                redis_prepare(knobs.redis)
                say(f"database {knobs.database}: {database}; Redis {knobs.redis} flushed")
                prepare = [str(BIN / "python"), "-m", "bench.http.prepare", str(DATA_DIR)]
                key, _, value = knobs.list_filter.partition("=")
                if key == "category":
                    prepare += ["--category", value]
                _run(prepare, env, log, "preparing tokens and ids")
            meta = json.loads((DATA_DIR / "meta.json").read_text())
            say(
                f"data: {meta['products']} products, {meta['orders']} orders of "
                f"{meta['customers']} customers, {meta['variants']} variants with stock"
            )

            app = Server(
                "app",
                _granian(knobs, "asginl", "config.asgi:application", knobs.app_port),
                env,
                knobs.app_port,
                WORK_DIR / "app.log",
            )
            servers.append(app)
            floor = None
            if not knobs.skip_floor:
                floor = Server(
                    "floor",
                    _granian(knobs, "asgi", "bench.http.floor:app", knobs.floor_port),
                    env,
                    knobs.floor_port,
                    WORK_DIR / "floor.log",
                )
                servers.append(floor)
            for server in servers:
                server.start(pgid_file)
            for server in servers:
                _wait_ready(server, f"/api/v2/products/{meta['sample']['product_id']}/")
            verdicts = smoke_and_compare(plan, meta, app, floor)
            for name, verdict in verdicts.items():
                say(f"  check {name:<22} {verdict}")

            results = measure(plan, servers, knobs)

            memory = {server.name: server.memory() for server in servers}
            load_end = os.getloadavg()
            report: dict[str, Any] = {
                **source,
                "started_at": started_at.isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - started),
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average_start": [round(x, 2) for x in load_start],
                    "load_average_end": [round(x, 2) for x in load_end],
                    "note": "wrk runs on the same cores as the servers and PostgreSQL",
                },
                "settings": {
                    "scenarios": knobs.scenarios,
                    "connections": knobs.connections,
                    "duration_s": knobs.duration,
                    "warmup_s": knobs.warmup,
                    "repeats": knobs.repeats,
                    "workers": knobs.workers,
                    "wrk_threads": knobs.threads,
                    "list_filter": knobs.list_filter,
                    "database": f"{knobs.database} ({database})",
                    "skip_floor": knobs.skip_floor,
                    "db_pool_max": pool_max,
                    "db_pool_note": pool_note,
                },
                "checks": verdicts,
                "rss_mb": memory,
                "peak_rss_mb": {
                    name: max(
                        (row["peak_rss_mb"] for row in rows if row["role"] == "worker"),
                        default=None,
                    )
                    for name, rows in memory.items()
                },
                "results": results,
            }
            knobs.results.parent.mkdir(parents=True, exist_ok=True)
            knobs.results.write_text(json.dumps(report, indent=2) + "\n")
            return _print_report(report, results, load_start, load_end, knobs.results)
        finally:
            for server in reversed(servers):
                server.stop()


def _print_report(
    report: dict[str, Any],
    results: Results,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    written: Path,
) -> int:
    """The table and what qualifies it; 1 when a figure is void."""
    say("")
    say(table(results))
    say("")
    for name, rows in report["rss_mb"].items():
        peaks = ", ".join(f"{row['peak_rss_mb']:.0f}" for row in rows if row["role"] == "worker")
        say(f"peak RSS per {name} worker (MB): {peaks}")
    say(
        f"load average {load_start[0]:.2f} -> {load_end[0]:.2f}; commit "
        f"{report['commit'][:10]}{' (uncommitted changes)' if report['dirty'] else ''}; "
        f"{report['seconds']} s; written {_shown(written)}"
    )
    if report["settings"]["db_pool_note"]:
        say(f"NOTE: {report['settings']['db_pool_note']}")
    for name, verdict in report["checks"].items():
        if verdict.startswith("DIFFERENT"):
            say(f"NOTE: {name}: the floor's answer differs from the app's (var/bench/diff-*.json)")
    void = [f"{n}@{c}" for n, by in results.items() for c, row in by.items() if row["void"]]
    if void:
        say(f"VOID (non-2xx or socket errors): {', '.join(void)}")
    return 1 if void else 0
