"""The alert rules, the Grafana dashboard and the autoscaler's metric rules
(deploy/observability/) parse and name only metrics that /metrics really exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from django.test import Client

from apps.common.tests import deploy_checks as dc

OWN_METRICS = {
    "fashionistar_http_request_duration_seconds_bucket",
    "fashionistar_http_request_duration_seconds_count",
    "fashionistar_tasks_total",
    "fashionistar_task_queue_depth",
    "fashionistar_outbox_depth",
    "fashionistar_outbox_oldest_age_seconds",
}


@pytest.fixture
def exported(client: Client, db: None) -> set[str]:
    """Every sample name /metrics offers, read from the endpoint itself."""
    response = client.get("/metrics")
    assert response.status_code == 200
    names = dc.exposed_sample_names(response.content.decode())
    assert names >= OWN_METRICS, OWN_METRICS - names
    return names


def test_the_metric_check_flags_names_nobody_exports() -> None:
    exported = {"fashionistar_tasks_total"}

    assert dc.check_promql('sum(rate(fashionistar_tasks_total{queue="x"}[5m]))', exported) == []
    assert dc.check_promql("sum(rate(fashionistar_task_total[5m]))", exported)
    assert dc.check_promql("vector(1)", exported), "an expression must select a metric"
    assert dc.promql_metric_names(
        "histogram_quantile(0.99, sum by (le, route)"
        ' (rate(a_bucket{route!~"b_c"}[$__rate_interval])))'
        " / on (route) group_left max without (pod) (b) > bool 1"
    ) == {"a_bucket", "b"}


# --- alerts ------------------------------------------------------------------------------


def test_every_alert_names_exported_metrics_and_has_a_runbook_section(exported: set[str]) -> None:
    rules = dc.alert_rules()
    runbook = (dc.ROOT / "docs" / "runbook.md").read_text()
    headings = set(re.findall(r"^### (\w+)$", runbook, re.M))

    assert len({rule["alert"] for rule in rules}) == len(rules)
    problems = [
        f"{rule['alert']}: {p}" for rule in rules for p in dc.check_promql(rule["expr"], exported)
    ]
    assert problems == []
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["runbook_url"] == f"docs/runbook.md#{rule['alert'].lower()}"
        assert rule["alert"] in headings, f"docs/runbook.md has no section for {rule['alert']}"


def test_the_alerts_cover_errors_latency_queues_failures_outbox_and_readiness() -> None:
    used = {name for rule in dc.alert_rules() for name in dc.promql_metric_names(rule["expr"])}
    expressions = " ".join(rule["expr"] for rule in dc.alert_rules())

    assert {
        "fashionistar_http_request_duration_seconds_count",
        "fashionistar_http_request_duration_seconds_bucket",
        "fashionistar_task_queue_depth",
        "fashionistar_tasks_total",
        "fashionistar_outbox_oldest_age_seconds",
        "kube_pod_status_ready",
    } <= used
    assert 'status=~"5.."' in expressions
    assert 'outcome="failed"' in expressions


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.skip("promtool is not installed (Debian package `prometheus`)")
    return found


def test_promtool_accepts_the_rules_and_they_fire_as_their_unit_tests_expect() -> None:
    binary = promtool()
    checked = subprocess.run(
        [binary, "check", "rules", "alerts.yaml"],
        cwd=dc.OBSERVABILITY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    tested = subprocess.run(
        [binary, "test", "rules", "alerts.test.yaml"],
        cwd=dc.OBSERVABILITY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_scrape_jobs_are_the_ones_the_rules_and_dashboard_select() -> None:
    config = yaml.safe_load((dc.OBSERVABILITY / "prometheus.yml").read_text())
    scrape_jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    texts = [rule["expr"] for rule in dc.alert_rules()]
    texts += [expr for _, expr in dc.dashboard_exprs(dc.load_dashboard())]
    jobs = {found for text in texts for found in re.findall(r'job="([^"]+)"', text)}

    # the API, and the workers, scheduler and relay on their metrics ports
    assert set(scrape_jobs) == {"fashionistar-api", "fashionistar-workers"}
    assert jobs == {"fashionistar-api"}
    for job in scrape_jobs.values():
        assert job["metrics_path"] == "/metrics"
        # production's /metrics wants the token (METRICS_TOKEN)
        assert job["authorization"]["credentials_file"]
    for path in config["rule_files"]:
        assert (dc.OBSERVABILITY / path).exists(), path


# --- dashboard ---------------------------------------------------------------------------


def test_the_dashboard_names_only_exported_metrics(exported: set[str]) -> None:
    dashboard = dc.load_dashboard()
    exprs = list(dc.dashboard_exprs(dashboard))

    assert exprs
    problems = [f"{title}: {p}" for title, expr in exprs for p in dc.check_promql(expr, exported)]
    assert problems == []


def test_the_dashboard_shows_traffic_errors_latency_tasks_outbox_and_readiness() -> None:
    dashboard = dc.load_dashboard()
    panels: list[dict[str, Any]] = dashboard["panels"]
    exprs = [expr for _, expr in dc.dashboard_exprs(dashboard)]
    used = {name for expr in exprs for name in dc.promql_metric_names(expr)}

    assert dashboard["uid"] and dashboard["title"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    assert OWN_METRICS | {"kube_pod_status_ready"} <= used
    assert any("histogram_quantile(0.99" in expr and "route" in expr for expr in exprs)
    assert any("histogram_quantile(0.5" in expr for expr in exprs)
    assert any('status=~"5.."' in expr for expr in exprs)


# --- autoscaling metric ------------------------------------------------------------------


def test_the_adapter_serves_the_metric_the_worker_autoscalers_ask_for(exported: set[str]) -> None:
    (configmap,) = dc.yaml_documents(dc.OBSERVABILITY / "prometheus-adapter.yaml")
    rules = yaml.safe_load(configmap["data"]["config.yaml"])["externalRules"]
    served = {rule["name"]["as"] for rule in rules}
    asked = {
        metric["external"]["metric"]["name"]
        for hpa in dc.by_kind(dc.k8s_objects(), "HorizontalPodAutoscaler").values()
        for metric in hpa["spec"]["metrics"]
        if metric["type"] == "External"
    }

    assert asked == {"fashionistar_task_queue_depth"}
    assert asked <= served
    for rule in rules:
        series = re.match(r"(\w+)\{", rule["seriesQuery"])
        assert series and series.group(1) in exported, rule["seriesQuery"]
        assert "<<.LabelMatchers>>" in rule["metricsQuery"]
