"""The deploy files against the code they run: every command exists and accepts its
arguments, the probe paths resolve and answer, every environment variable is one the
processes read and every value passes the settings' validation."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from apps.common import health, metrics_view
from apps.common.tests import deploy_checks as dc
from config.env import Env


def all_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every command the deploy files run."""
    found: list[tuple[str, list[str]]] = []
    data = dc.compose()
    for name, service in dc.compose_app_services(data).items():
        found.append((f"compose {name}", list(service["command"])))
    for obj in dc.k8s_objects():
        spec = dc.pod_spec(obj)
        for container in dc.containers(spec) if spec else []:
            argv = [*container.get("command", []), *container.get("args", [])]
            found.append((f"k8s {obj['metadata']['name']}/{container['name']}", argv))
    return found


def compose_mounted_files() -> dict[str, str]:
    data = dc.compose()
    files: dict[str, str] = {}
    for service in data["services"].values():
        for mount in service.get("configs", []):
            config = data["configs"][mount["source"]]
            if "content" in config:
                files[mount["target"]] = config["content"]
    return files


def test_every_command_is_a_real_command_with_valid_arguments() -> None:
    files = compose_mounted_files()
    commands = all_commands()

    assert len(commands) > 10
    problems = [
        f"{where}: {problem}"
        for where, argv in commands
        for problem in dc.check_command(argv, files=files)
    ]
    assert problems == []


def test_the_command_check_rejects_unknown_commands_and_options() -> None:
    assert dc.check_command(["python", "manage.py", "run_wroker"])
    assert dc.check_command(["python", "manage.py", "run_worker", "--queuez=critical"])
    assert dc.check_command(["granian", "--interface", "asgi2", "config.asgi:application"])
    assert dc.check_command(["granian", "config.asgi:app"])
    assert dc.check_command(["python", "-m", "tools.sandbox", "--deliver", "x", "--bogus"])
    assert dc.check_command(["sh", "-c", "until python manage.py migrat --check; do :; done"])


def test_the_commands_the_docs_tell_operators_to_run_exist() -> None:
    makefile = (dc.ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    text = "\n".join((dc.ROOT / "docs" / name).read_text() for name in ("runbook.md", "deploy.md"))

    made = set(re.findall(r"\bmake ([a-z][a-z-]*)", text))
    managed = set(re.findall(r"manage\.py ([a-z_]+)", text))

    assert made and managed
    assert made <= targets, made - targets
    assert not [name for name in managed if dc.check_command(["python", "manage.py", name])]


def probe_paths() -> set[str]:
    paths = set()
    for obj in dc.k8s_objects():
        spec = dc.pod_spec(obj)
        for container in dc.containers(spec) if spec else []:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    paths.add(container[probe]["httpGet"]["path"])
    healthcheck = " ".join(dc.compose()["services"]["api"]["healthcheck"]["test"])
    paths |= set(re.findall(r"http://127\.0\.0\.1:8000(/[\w/]*)", healthcheck))
    return paths


@pytest.mark.django_db
def test_probe_paths_resolve_to_the_health_views_and_answer(client: Client) -> None:
    paths = probe_paths()

    assert paths == {"/health/live/", "/health/ready/"}
    for path in paths:
        assert resolve(path).func in {health.live, health.ready}
        assert client.get(path).status_code == 200, path
    assert resolve("/metrics").func is metrics_view.metrics
    with pytest.raises(Resolver404):
        resolve("/health/readyz/")


def container_variables() -> dict[str, set[str]]:
    """Variable names per source: ConfigMap, Secret, container env, compose, env.example."""
    objects = dc.k8s_objects()
    configmap = dc.by_kind(objects, "ConfigMap")["fashionistar-config"]["data"]
    secret = dc.yaml_documents(dc.K8S / "secret.example.yaml")[0]["stringData"]
    env_names: set[str] = set()
    for obj in objects:
        spec = dc.pod_spec(obj)
        for container in dc.containers(spec) if spec else []:
            env_names |= {item["name"] for item in container.get("env", [])}
    compose_names: set[str] = set()
    for service in dc.compose_app_services().values():
        compose_names |= set(service.get("environment", {}))
    return {
        "configmap": set(configmap),
        "secret": set(secret),
        "k8s env": env_names,
        "compose": compose_names,
        "env.example": set(dc.env_file_variables(dc.ENV_EXAMPLE)),
    }


def test_every_variable_set_for_the_app_is_one_it_reads() -> None:
    found = container_variables()
    allowed = {
        "configmap": set(),
        "secret": set(),
        "k8s env": dc.KUBERNETES_HELPER_VARIABLES,
        "compose": set(),
        "env.example": dc.COMPOSE_ONLY_VARIABLES,
    }

    problems = [
        f"{source}: {problem}"
        for source, names in found.items()
        for problem in dc.check_environment_names(names, allowed=allowed[source])
    ]
    assert problems == []
    assert dc.check_environment_names({"DJANGO_SECRET"}), "a misspelt name is caught"


def test_every_value_set_for_the_app_passes_the_settings_validation() -> None:
    objects = dc.k8s_objects()
    secret = dc.yaml_documents(dc.K8S / "secret.example.yaml")[0]["stringData"]
    k8s = {**dc.by_kind(objects, "ConfigMap")["fashionistar-config"]["data"], **secret}
    template = dc.active_env_file_variables(dc.ENV_EXAMPLE)
    compose_env = {
        name: value
        for service in dc.compose_app_services().values()
        for name, value in service.get("environment", {}).items()
        if "${" not in str(value)
    }

    for values in (k8s, {**template, **compose_env}):
        fields = {name: value for name, value in values.items() if name in Env.model_fields}
        Env(**fields)  # raises on a wrong type, scheme or pattern


def test_production_finds_every_variable_it_requires() -> None:
    source = (dc.ROOT / "config" / "settings" / "production.py").read_text()
    required = set(re.findall(r'_require\("([A-Z_]+)"', source))
    required |= set(re.findall(r'"((?:PAYSTACK|STRIPE|SQUARE)_[A-Z_]+)"', source))
    found = container_variables()
    compose_set = found["env.example"] | found["compose"]
    k8s_set = found["configmap"] | found["secret"]

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "SQUARE_LOCATION_ID"} <= required
    assert required - k8s_set == set()
    assert required - compose_set == set()
