"""The deploy files wire metrics the way docs/observability.md says: every process that
is not the API serves its metrics on a declared port, the processes of one pod never
share a multiprocess directory across process-id namespaces, and the token is set."""

from __future__ import annotations

from typing import Any

from apps.common.tests import deploy_checks as dc


def _env(container: dict[str, Any], configmap: dict[str, str]) -> dict[str, str]:
    return {
        **configmap,
        **{item["name"]: item.get("value", "") for item in container.get("env", [])},
    }


def test_every_worker_scheduler_and_relay_container_serves_metrics_on_a_declared_port() -> None:
    objects = dc.k8s_objects()
    configmap = dc.by_kind(objects, "ConfigMap")["fashionistar-config"]["data"]
    checked = 0
    for name, deployment in dc.by_kind(objects, "Deployment").items():
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        spec = dc.pod_spec(deployment)
        assert spec is not None
        directories = []
        for container in spec["containers"]:
            env = _env(container, configmap)
            directories.append(env["PROMETHEUS_MULTIPROC_DIR"])
            if component == "api":
                continue
            ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
            metrics_ports = [p for n, p in ports.items() if n.startswith("metrics")]
            assert metrics_ports == [int(env["METRICS_PORT"])], (name, container["name"])
            checked += 1
        # containers of a pod share /tmp but not process ids: one directory each
        assert len(set(directories)) == len(directories), name
    assert checked >= 6


def test_the_metrics_token_is_a_secret_everywhere_production_runs() -> None:
    secret = dc.yaml_documents(dc.K8S / "secret.example.yaml")[0]["stringData"]
    configmap = dc.by_kind(dc.k8s_objects(), "ConfigMap")["fashionistar-config"]["data"]

    assert "METRICS_TOKEN" in secret
    assert "METRICS_TOKEN" not in configmap
    assert "METRICS_TOKEN" in dc.active_env_file_variables(dc.ENV_EXAMPLE)
    app_env = dc.compose()["x-app"]["environment"]
    assert app_env["PROMETHEUS_MULTIPROC_DIR"] and app_env["METRICS_PORT"]
