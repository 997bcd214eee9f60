"""Readers and checkers for the deployment files under ``deploy/``.

Used by ``test_deploy_files.py`` and ``test_observability_files.py``. Each checker returns
the problems it found (an empty list when all is well), so the tests can also show that a
broken input is caught.
"""

from __future__ import annotations

import ast
import configparser
import functools
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from granian.cli import cli as granian_cli

from config.env import Env
from tools.supervise import parse_procfile

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OBSERVABILITY = DEPLOY / "observability"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "env.example"
DOCKERFILE = DEPLOY / "Dockerfile"

# The manifests are validated against this Kubernetes release's API schemas.
KUBERNETES_VERSION = "1.34.0"

# Metrics the dashboards and alerts may use besides our own: who exports each.
EXTERNAL_METRICS = {
    "up": "Prometheus itself, one per scrape target",
    "kube_pod_status_ready": "kube-state-metrics",
    "kube_deployment_status_replicas_available": "kube-state-metrics",
}

# Variables that only Kubernetes uses (downward API), referenced as $(NAME) by others.
KUBERNETES_HELPER_VARIABLES = {"POD_IP"}

# env.example variables that compose.yaml interpolates and no app process reads.
COMPOSE_ONLY_VARIABLES = {"FASHIONISTAR_IMAGE", "POSTGRES_PASSWORD", "API_PORT"}

PLACEHOLDER = "CHANGE_ME"


# --- loading ---------------------------------------------------------------------------


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_manifest_paths() -> list[Path]:
    """Every Kubernetes object file: deploy/k8s/ (not the kustomization) and the adapter's."""
    paths = [path for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"]
    return [*paths, OBSERVABILITY / "prometheus-adapter.yaml"]


def k8s_objects(paths: list[Path] | None = None) -> list[dict[str, Any]]:
    return [doc for path in (paths or k8s_manifest_paths()) for doc in yaml_documents(path)]


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        spec: dict[str, Any] = obj["spec"]["template"]["spec"]
        return spec
    return None


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def app_image() -> str:
    """The image reference every app service of compose.yaml shares (the x-app anchor)."""
    return str(compose()["x-app"]["image"])


def compose_app_services(data: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    data = data or compose()
    image = data["x-app"]["image"]
    return {name: svc for name, svc in data["services"].items() if svc.get("image") == image}


def env_file_variables(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an env file, commented-out ones (``# NAME=value``) included."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            found[match.group(1)] = value
    return found


def active_env_file_variables(path: Path) -> dict[str, str]:
    """Only the lines that are not commented out."""
    active = {
        line.split("=", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#") and "=" in line
    }
    return {name: value for name, value in env_file_variables(path).items() if name in active}


def pgbouncer_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=None, comment_prefixes=(";", "#"))
    parser.read_string((DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text())
    return parser


# --- Dockerfile ------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """Instructions grouped by ``FROM``; the first group holds what comes before any."""
    stages: list[list[tuple[str, str]]] = [[]]
    for instruction in dockerfile_instructions(text):
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def dockerfile_build_only_assignments(text: str) -> dict[str, str]:
    """The ``NAME=value`` prefix of the RUN instruction that runs collectstatic."""
    for keyword, arguments in dockerfile_instructions(text):
        if keyword == "RUN" and "collectstatic" in arguments:
            assignments: dict[str, str] = {}
            for token in shlex.split(arguments):
                if not re.match(r"^[A-Z][A-Z0-9_]*=", token):
                    break
                name, _, value = token.partition("=")
                assignments[name] = value
            return assignments
    return {}


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether the build context leaves ``path`` out: the last pattern matching the path
    or one of its parent directories decides, as Docker does."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        regex = _dockerignore_regex(body)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# --- commands --------------------------------------------------------------------------


@functools.cache
def _help_text(module: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def _check_options_in_help(module: str, arguments: list[str]) -> list[str]:
    known = set(re.findall(r"--[a-z][a-z0-9-]*", _help_text(module)))
    options = [arg.split("=", 1)[0] for arg in arguments if arg.startswith("--")]
    return [
        f"python -m {module}: unknown option {option}" for option in options if option not in known
    ]


def check_command(argv: list[str], *, files: dict[str, str] | None = None) -> list[str]:
    """Problems with one command line a container or service runs.

    Management commands must exist and accept their arguments; granian must accept its
    options and find its application; ``python -m tools.…`` must accept its options (a
    procfile's lines are checked in turn; ``files`` maps mounted paths to their content);
    ``sh -c`` scripts have each ``python manage.py …`` inside them checked.
    """
    files = files or {}
    if not argv:
        return ["empty command"]
    program = argv[0]
    if program == "sh" and argv[1:2] == ["-c"]:
        segments = re.findall(r"python manage\.py [^;&|]+", argv[2])
        if not segments:
            return [f"sh -c script runs no management command: {argv[2]!r}"]
        return [problem for seg in segments for problem in check_command(shlex.split(seg))]
    if program == "granian":
        return _check_granian(argv[1:])
    if program in {"python", "python3"} and argv[1:2] == ["manage.py"]:
        return _check_management_command(argv[2:])
    if program in {"python", "python3"} and argv[1:2] == ["-m"]:
        module, arguments = argv[2], argv[3:]
        if module == "tools.sandbox":
            return _check_options_in_help(module, arguments)
        if module == "tools.supervise":
            problems = _check_options_in_help(module, arguments)
            positional = [arg for arg in arguments if not arg.startswith("-")]
            # Option values (--stop-timeout 45) are not the procfile.
            procfile = positional[-1] if positional else ""
            content = files.get(procfile)
            if content is None:
                return [*problems, f"tools.supervise: procfile {procfile!r} is not provided"]
            for _, command in parse_procfile(content):
                problems += check_command(shlex.split(command))
            return problems
        return [f"unknown module {module!r}"]
    return [f"unknown program {program!r} in {argv!r}"]


def _check_management_command(arguments: list[str]) -> list[str]:
    if not arguments:
        return ["manage.py without a command"]
    name, rest = arguments[0], arguments[1:]
    commands = get_commands()
    if name not in commands:
        return [f"manage.py {name}: no such management command"]
    command = load_command_class(commands[name], name)
    try:
        command.create_parser("manage.py", name).parse_args(rest)
    except CommandError as error:
        return [f"manage.py {name} {' '.join(rest)}: {error}"]
    return []


def _check_granian(arguments: list[str]) -> list[str]:
    try:
        context = granian_cli.make_context("granian", list(arguments), resilient_parsing=False)
    except click.ClickException as error:
        return [f"granian {' '.join(arguments)}: {error.format_message()}"]
    target = str(context.params["app"])
    module, _, attribute = target.partition(":")
    source = ROOT / (module.replace(".", "/") + ".py")
    if not source.exists():
        return [f"granian: no module {module}"]
    tree = ast.parse(source.read_text())
    assigned = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if attribute not in assigned:
        return [f"granian: {module} defines no {attribute}"]
    return []


def granian_environment_variables() -> set[str]:
    """What granian reads from the environment (its options, with the GRANIAN_ prefix)."""
    return {
        f"GRANIAN_{param.name.upper()}"
        for param in granian_cli.params
        if isinstance(param, click.Option) and param.name
    }


def sandbox_environment_variables() -> set[str]:
    source = (ROOT / "tools" / "sandbox" / "__main__.py").read_text()
    return set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", source))


def opentelemetry_environment_variables() -> set[str]:
    """The OTEL_* variables OpenTelemetry's SDK and exporters read (apps.common.tracing)."""
    from opentelemetry import environment_variables as api
    from opentelemetry.sdk import environment_variables as sdk

    return {
        value
        for module in (api, sdk)
        for value in vars(module).values()
        if isinstance(value, str) and value.startswith("OTEL_")
    }


def app_environment_variables() -> set[str]:
    """Every variable an app process reads: the settings, Django, granian, the sandbox,
    OpenTelemetry."""
    return (
        set(Env.model_fields)
        | {"DJANGO_SETTINGS_MODULE"}
        | granian_environment_variables()
        | sandbox_environment_variables()
        | opentelemetry_environment_variables()
    )


def check_environment_names(names: set[str], *, allowed: set[str] | None = None) -> list[str]:
    allowed = app_environment_variables() | (allowed or set())
    return [f"{name} is read by nothing" for name in sorted(names - allowed)]


# --- PromQL ----------------------------------------------------------------------------

_PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left"}
_PROMQL_WORDS |= {"group_right", "offset", "bool", "inf", "nan", "atan2"}


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, label names and
    label values left out)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"'(?:\\.|[^'\\])*'", "''", text)
    grouping = r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
    text = re.sub(grouping, " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        name, call = match.groups()
        if call or name.lower() in _PROMQL_WORDS:
            continue
        names.add(name)
    return names


def check_promql(expr: str, exported: set[str]) -> list[str]:
    names = promql_metric_names(expr)
    if not names:
        return [f"selects no metric: {expr!r}"]
    known = exported | set(EXTERNAL_METRICS)
    return [f"{name} is not exported (in {expr.strip()!r})" for name in sorted(names - known)]


def exposed_sample_names(exposition: str) -> set[str]:
    """Sample names a Prometheus text exposition offers, including those of families that
    have no sample yet (a labelled histogram before its first observation)."""
    from prometheus_client.parser import text_string_to_metric_families

    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        suffixes = {
            "counter": ["_total", "_created"],
            "histogram": ["_bucket", "_sum", "_count", "_created"],
            "summary": ["", "_sum", "_count", "_created"],
        }.get(family.type, [""])
        names |= {family.name + suffix for suffix in suffixes}
        names |= {sample.name for sample in family.samples}
    return names


def dashboard_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, expression) of every query of every panel, rows' panels included."""

    def walk(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield panel.get("title", "?"), target["expr"]
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard.get("panels", []))


def load_dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    return data


def alert_rules() -> list[dict[str, Any]]:
    data = yaml.safe_load((OBSERVABILITY / "alerts.yaml").read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]
