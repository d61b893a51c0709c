"""The ops server: /metrics serves the registry, /healthz is alive, /readyz follows Readiness."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.ops.server import OpsServer, start_ops_server


@pytest.fixture
def served() -> Iterator[tuple[OpsServer, BridgeMetrics, Readiness]]:
    registry = CollectorRegistry()
    metrics = BridgeMetrics(registry)
    readiness = Readiness()
    server = start_ops_server(host="127.0.0.1", port=0, registry=registry, readiness=readiness)
    try:
        yield server, metrics, readiness
    finally:
        server.stop()


def _get(server: OpsServer, path: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}")
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()


class TestOpsServer:
    def test_port_zero_binds_a_real_port(self, served) -> None:
        """Port 0 picks a free port and reports it."""
        server, _, _ = served
        assert server.port > 0

    def test_metrics_serves_the_given_registry(self, served) -> None:
        """/metrics renders the registry's families with their current values."""
        server, metrics, _ = served
        metrics.records_sent.labels(direction="inbound", action="upsertContact").inc(3)
        status, content_type, body = _get(server, "/metrics")
        assert status == 200
        assert content_type.startswith("text/plain")
        assert 'cordial_bridge_records_sent_total{action="upsertContact",direction="inbound"} 3.0' in body

    def test_metrics_speaks_openmetrics_when_asked(self, served) -> None:
        server, _, _ = served
        status, content_type, body = _get(server, "/metrics", accept="application/openmetrics-text")
        assert status == 200
        assert content_type.startswith("application/openmetrics-text")
        assert body.rstrip().endswith("# EOF")

    def test_healthz_is_alive_even_when_not_ready(self, served) -> None:
        server, _, _ = served
        status, _, body = _get(server, "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "alive"})

    def test_readyz_follows_readiness(self, served) -> None:
        """503 before anything runs, 200 once ready, 503 again when a direction is auth-paused."""
        server, _, readiness = served
        status, _, body = _get(server, "/readyz")
        assert status == 503
        assert "broker_unreachable" in json.loads(body)["problems"]

        readiness.set_broker_reachable(True)
        readiness.set_assigned("inbound", 3)
        status, content_type, body = _get(server, "/readyz")
        assert status == 200
        assert content_type == "application/json"
        details = json.loads(body)
        assert details["status"] == "ready"
        assert details["directions"]["inbound"]["assigned_partitions"] == 3

        readiness.set_auth_paused("inbound", True)
        status, _, body = _get(server, "/readyz")
        assert status == 503
        assert json.loads(body)["problems"] == ["inbound:auth_paused"]

    def test_unknown_path_is_404(self, served) -> None:
        server, _, _ = served
        status, _, _ = _get(server, "/nope")
        assert status == 404

    def test_stop_releases_the_port(self) -> None:
        """After stop() nothing answers on the port (and stop is idempotent)."""
        server = start_ops_server(
            host="127.0.0.1", port=0, registry=CollectorRegistry(), readiness=Readiness()
        )
        port = server.port
        server.stop()
        server.stop()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
