"""deploy/compose.yaml and what it mounts (PgBouncer, Sentinel, the env template): every
process after the migrations, the profiles, one worker process per queue, placeholders only."""

from __future__ import annotations

import re

from django.conf import settings

from apps.common.tests import deploy_checks as dc

TIME_LIMIT = settings.TASK_TIME_LIMIT_MAX  # the longest task attempt, in seconds


def test_compose_runs_every_process_after_the_migrations() -> None:
    data = dc.compose()
    services = data["services"]
    app = dc.compose_app_services(data)

    assert {"postgres", "pgbouncer", "redis", "migrate", "api", "scheduler", "relay"} <= set(
        services
    )
    assert {"worker-critical", "worker-emails", "worker-analytics-default"} <= set(app)
    assert app["migrate"]["restart"] == "no"
    assert app["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name, service in app.items():
        if name in {"migrate", "sandbox"}:
            continue
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert "profiles" not in service, name
    for name in ("worker-critical", "worker-emails", "worker-analytics-default"):
        grace = int(app[name]["stop_grace_period"].removesuffix("s"))
        assert grace > TIME_LIMIT, name


def test_compose_profiles_hold_the_sentinels_and_the_sandbox() -> None:
    services = dc.compose()["services"]
    sentinel = {name for name, svc in services.items() if "sentinel" in svc.get("profiles", [])}
    staging = {name for name, svc in services.items() if "staging" in svc.get("profiles", [])}

    assert sentinel == {"redis-replica", "redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3"}
    assert staging == {"sandbox"}
    assert services["sandbox"]["command"][-2:] == ["--deliver-to", "http://api:8000"]
    sentinel_conf = (dc.DEPLOY / "redis" / "sentinel.conf").read_text()
    assert re.search(r"^sentinel monitor \S+ redis 6379 2$", sentinel_conf, re.M)


def test_compose_drains_every_queue_one_process_per_queue() -> None:
    data = dc.compose()
    procfile = data["configs"]["worker-analytics-default.procfile"]["content"]
    commands = [svc["command"] for svc in dc.compose_app_services(data).values()]
    commands += [line.split(":", 1)[1].split() for line in procfile.splitlines() if line.strip()]

    queues = [
        arg.split("=", 1)[1]
        for command in commands
        if "run_worker" in command
        for arg in command
        if arg.startswith("--queues=")
    ]

    assert sorted(queues) == sorted(settings.TASK_QUEUES)


def test_the_app_reaches_postgres_through_pgbouncer_in_transaction_mode() -> None:
    data = dc.compose()
    env = data["x-app"]["environment"]
    ini = dc.pgbouncer_ini()
    url = re.match(r"postgres://(\w+):\$\{[^}]+\}@(\w+):(\d+)/(\w+)$", env["DATABASE_URL"])
    targets = {
        mount["target"]: data["configs"][mount["source"]]
        for mount in data["services"]["pgbouncer"]["configs"]
    }

    assert url, env["DATABASE_URL"]
    user, host, port, database = url.groups()
    assert env["DATABASE_PGBOUNCER"] == "true"
    assert host == "pgbouncer"
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert ini["pgbouncer"]["listen_port"] == port
    assert database in ini["databases"]
    assert "host=postgres" in ini["databases"][database]
    assert user in targets[ini["pgbouncer"]["auth_file"]]["content"]
    assert (dc.DEPLOY / targets["/etc/pgbouncer/pgbouncer.ini"]["file"]).exists()
    assert data["services"]["migrate"]["environment"]["DATABASE_PGBOUNCER"] == "false"


def test_compose_interpolates_only_variables_the_env_template_defines() -> None:
    text = dc.COMPOSE.read_text()
    template = dc.env_file_variables(dc.ENV_EXAMPLE)
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))

    assert interpolated <= set(template), interpolated - set(template)
    for name in dc.COMPOSE_ONLY_VARIABLES:
        assert name in interpolated, f"{name} is in env.example but compose.yaml never uses it"


def test_the_env_template_holds_placeholders_only() -> None:
    template = dc.env_file_variables(dc.ENV_EXAMPLE)
    secrets = set(dc.yaml_documents(dc.K8S / "secret.example.yaml")[0]["stringData"])
    secrets |= {"POSTGRES_PASSWORD"}

    for name in secrets & set(template):
        assert dc.PLACEHOLDER in template[name], f"{name} must be a placeholder"
    assert not (dc.DEPLOY / ".env").is_file() or ".env" in (dc.ROOT / ".gitignore").read_text()
