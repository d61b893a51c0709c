"""deploy/: every file loads, every metric an alert or panel uses is one the code exports, and the
manifests agree with the code (probes, ports, groups, partitions, CLI verbs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from processor.cli import _VERBS
from processor.config.loader import load_settings_text
from processor.config.settings import Settings
from processor.ops.metrics import BridgeMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\b(cordial_bridge_[a-z0-9_]+)\s*(\{[^}]*\})?")
BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
LABEL_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
PROMETHEUS_LABELS = {"le", "job", "instance", "component", "pod", "namespace"}


def _exported() -> dict[str, set[str]]:
    """Every sample name BridgeMetrics exports → its label names."""
    metrics = BridgeMetrics(CollectorRegistry())
    names: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if not isinstance(metric, Counter | Gauge | Histogram):
            continue
        family = metric._name
        labels = set(metric._labelnames)
        if isinstance(metric, Counter):
            names[f"{family}_total"] = labels
            names[f"{family}_created"] = labels
        elif isinstance(metric, Histogram):
            for suffix in ("_bucket", "_sum", "_count", "_created"):
                names[f"{family}{suffix}"] = labels | ({"le"} if suffix == "_bucket" else set())
        else:
            names[family] = labels
    return names


EXPORTED = _exported()


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


def _load_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _alert_rules() -> list[dict[str, Any]]:
    (doc,) = _load_yaml(DEPLOY / "prometheus" / "alerts.yml")
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
    return [s for s in _strings(dashboard) if "cordial_bridge_" in s]


def _k8s(kind: str) -> list[dict[str, Any]]:
    docs = [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in _load_yaml(path)]
    return [doc for doc in docs if doc.get("kind") == kind]


def _configmap_settings() -> Settings:
    (configmap,) = _k8s("ConfigMap")
    return load_settings_text(configmap["data"]["bridge.yaml"], source="configmap")


def check_expression(expr: str) -> list[str]:
    """Problems with one PromQL expression: unknown metric names or labels."""
    problems = []
    used = METRIC.findall(expr)
    labels_known = set(PROMETHEUS_LABELS)
    for name, selector in used:
        if name not in EXPORTED:
            problems.append(f"unknown metric {name}")
            continue
        labels_known |= EXPORTED[name]
        for label in LABEL_MATCHER.findall(selector):
            if label not in EXPORTED[name] | PROMETHEUS_LABELS:
                problems.append(f"{name} has no label {label}")
    for group in BY.findall(expr):
        for label in filter(None, (part.strip() for part in group.split(","))):
            if label not in labels_known:
                problems.append(f"grouping by unknown label {label}")
    return problems


class TestFilesLoad:
    @pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
    def test_yaml_loads(self, path: Path) -> None:
        assert _load_yaml(path), f"{path} is empty"

    @pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.json")), ids=lambda p: str(p.relative_to(DEPLOY)))
    def test_json_loads(self, path: Path) -> None:
        assert json.loads(path.read_text())

    def test_bridge_configs_load_with_the_real_loader(self) -> None:
        compose_config = load_settings_text(
            (DEPLOY / "config" / "bridge.yaml").read_text(), source="bridge.yaml"
        )
        assert compose_config.ops.log_format == "json"
        assert _configmap_settings().cordial.api_key_file is not None


class TestMetricNames:
    def test_the_checker_catches_mistakes(self) -> None:
        """Guard against a checker that passes everything."""
        assert check_expression("rate(cordial_bridge_records_sent_total[5m])") == []
        assert check_expression("cordial_bridge_records_sent") == [
            "unknown metric cordial_bridge_records_sent"
        ]
        assert check_expression('cordial_bridge_auth_paused{user="x"}') == [
            "cordial_bridge_auth_paused has no label user"
        ]
        assert check_expression("sum by (tier) (cordial_bridge_auth_paused)") == [
            "grouping by unknown label tier"
        ]

    @pytest.mark.parametrize("rule", _alert_rules(), ids=lambda r: r["alert"])
    def test_alert_expressions_use_exported_metrics(self, rule: dict[str, Any]) -> None:
        assert check_expression(rule["expr"]) == []

    def test_dashboard_uses_exported_metrics_only(self) -> None:
        exprs = _dashboard_exprs()
        assert len(exprs) >= 20
        problems = {expr: check_expression(expr) for expr in exprs}
        assert {e: p for e, p in problems.items() if p} == {}

    def test_every_panel_has_a_query(self) -> None:
        dashboard = json.loads((DEPLOY / "grafana" / "dashboard.json").read_text())
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                assert panel["targets"], panel["title"]
                assert all(t["expr"] for t in panel["targets"]), panel["title"]

    def test_dashboard_covers_the_spec_families(self) -> None:
        """SPEC §8: consumed, sent, retried, dead-lettered, blocked, HTTP durations, in-flight, lag,
        retry depth, auth pause."""
        text = " ".join(_dashboard_exprs())
        for name in (
            "records_consumed_total",
            "records_sent_total",
            "records_retried_total",
            "records_dead_lettered_total",
            "records_blocked_total",
            "http_request_duration_seconds_bucket",
            "http_in_flight_requests",
            "consumer_lag",
            "retry_topic_depth",
            "auth_paused",
        ):
            assert f"cordial_bridge_{name}" in text, name


class TestAlerts:
    def test_rules_are_complete(self) -> None:
        for rule in _alert_rules():
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]
            assert re.fullmatch(r"\d+[smh]", rule["for"])

    def test_the_issue_alerts_exist(self) -> None:
        exprs = {rule["alert"]: rule["expr"] for rule in _alert_rules()}
        assert any("consumer_lag" in e and "delta" in e for e in exprs.values()), "lag growing"
        assert any("records_dead_lettered_total" in e for e in exprs.values()), "DLQ rate"
        assert any("auth_paused" in e for e in exprs.values()), "auth paused"
        assert any("http_requests_total" in e and "/" in e for e in exprs.values()), "HTTP error ratio"
        assert any("records_outcome_total" in e and "consumer_lag" in e for e in exprs.values()), (
            "no progress"
        )

    def test_prometheus_loads_the_rules_and_scrapes_the_metrics_port(self) -> None:
        (config,) = _load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
        assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
        port = load_settings_text((DEPLOY / "config" / "bridge.yaml").read_text()).ops.metrics_port
        targets = [t for sc in config["scrape_configs"] for s in sc["static_configs"] for t in s["targets"]]
        assert targets
        assert all(t.endswith(f":{port}") for t in targets)


class TestKubernetes:
    @pytest.mark.parametrize("direction", ["inbound", "outbound"])
    def test_deployment_per_direction_with_probes_and_limits(self, direction: str) -> None:
        (deployment,) = [d for d in _k8s("Deployment") if d["metadata"]["name"].endswith(direction)]
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"][:3] == ["run", "--direction", direction]
        port = _configmap_settings().ops.metrics_port
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["terminationGracePeriodSeconds"] > _configmap_settings().worker.shutdown_deadline_s

    def test_keys_come_from_the_secret_as_files(self) -> None:
        settings = _configmap_settings()
        (secret,) = _k8s("Secret")
        for deployment in _k8s("Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            (keys,) = [v for v in pod["volumes"] if v.get("secret")]
            assert keys["secret"]["secretName"] == secret["metadata"]["name"]
            (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == keys["name"]]
            for path in (settings.cordial.api_key_file, settings.segment.write_key_file):
                assert path is not None
                directory, name = path.rsplit("/", 1)
                assert directory == mount["mountPath"]
                assert name in secret["stringData"]

    def test_keda_scales_on_lag_up_to_the_partition_count(self) -> None:
        settings = _configmap_settings()
        topics = {
            "inbound": settings.topics.segment_inbound.name,
            "outbound": settings.topics.cordial_outbound.name,
        }
        scaled = _k8s("ScaledObject")
        assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled} == {
            d["metadata"]["name"] for d in _k8s("Deployment")
        }
        for obj in scaled:
            direction = obj["metadata"]["labels"]["app.kubernetes.io/component"]
            assert obj["spec"]["maxReplicaCount"] <= settings.kafka.partitions
            (trigger,) = obj["spec"]["triggers"]
            assert trigger["type"] == "kafka"
            assert trigger["metadata"]["consumerGroup"] == f"{settings.kafka.group_id}-{direction}"
            assert trigger["metadata"]["topic"] == topics[direction]

    def test_service_selects_the_workers_metrics_port(self) -> None:
        (service,) = _k8s("Service")
        assert service["spec"]["ports"][0]["targetPort"] == "metrics"
        for deployment in _k8s("Deployment"):
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert service["spec"]["selector"].items() <= labels.items()


class TestCompose:
    def _services(self) -> dict[str, Any]:
        (compose,) = _load_yaml(DEPLOY / "docker-compose.yml")
        services: dict[str, Any] = compose["services"]
        return services

    def test_the_stack_is_complete(self) -> None:
        services = self._services()
        assert services["kafka"]["image"].startswith("apache/kafka")
        assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert services["inbound-worker"]["command"] == ["run", "--direction", "inbound"]
        assert services["outbound-worker"]["command"] == ["run", "--direction", "outbound"]
        for name in ("prometheus", "grafana", "topics-init", "cordial-emulator", "segment-emulator"):
            assert name in services

    def test_commands_are_real_verbs_and_emulators_match_the_config(self) -> None:
        settings = load_settings_text((DEPLOY / "config" / "bridge.yaml").read_text())
        for name, service in self._services().items():
            if service.get("image", "").startswith("cordial-bridge"):
                assert service["command"][0] in _VERBS, name
        for kind, endpoint in (
            ("cordial", settings.cordial.endpoint),
            ("segment", settings.segment.endpoint),
        ):
            command = self._services()[f"{kind}-emulator"]["command"]
            assert command[:2] == ["emulate", kind]
            port = command[command.index("--port") + 1]
            assert endpoint == f"http://{kind}-emulator:{port}"

    def test_grafana_provisioning_points_at_the_mounted_dashboard(self) -> None:
        (provider,) = _load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml")
        path = provider["providers"][0]["options"]["path"]
        mounts = self._services()["grafana"]["volumes"]
        assert any(m.startswith("./grafana/dashboard.json:" + path + "/") for m in mounts)


class TestDockerfile:
    def test_multi_stage_non_root_with_entrypoint_and_healthcheck(self) -> None:
        text = (DEPLOY / "Dockerfile").read_text()
        assert len(re.findall(r"^FROM ", text, re.M)) >= 2
        (user,) = re.findall(r"^USER (\S+)", text, re.M)
        assert not user.startswith(("root", "0"))
        assert 'ENTRYPOINT ["cordial-bridge"]' in text
        assert "HEALTHCHECK" in text
        assert "/healthz" in text
