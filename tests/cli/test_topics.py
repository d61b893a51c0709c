"""`cordial-bridge topics create`: every source, retry-tier and DLQ topic; a second run changes nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from processor.cli import cli
from processor.demo.config import fast_config, write_config

pytestmark = pytest.mark.kafka


def test_create_is_idempotent(kafka_broker, unique_name, tmp_path) -> None:
    """First run creates 2 x (source + 2 tiers + DLQ) topics; the second reports each as existing."""
    inbound, outbound = unique_name("in"), unique_name("out")
    config = fast_config(
        bootstrap_servers=kafka_broker.bootstrap_servers,
        cordial_endpoint="http://127.0.0.1:1",
        segment_endpoint="http://127.0.0.1:1",
        inbound_topic=inbound,
        outbound_topic=outbound,
        partitions=2,
    )
    path = write_config(tmp_path / "c.yaml", config)
    runner = CliRunner()
    first = runner.invoke(cli, ["topics", "create", "--config", str(path)])
    assert first.exit_code == 0, first.output
    expected = [inbound, f"{inbound}.retry.1s", f"{inbound}.retry.2s", f"{inbound}.dlq"]
    expected += [outbound, f"{outbound}.retry.1s", f"{outbound}.retry.2s", f"{outbound}.dlq"]
    for name in expected:
        assert f"created  {name} (2 partitions)" in first.output
    assert "8 created, 0 already existed" in first.output
    metadata = kafka_broker.admin().list_topics(timeout=10).topics
    assert all(len(metadata[name].partitions) == 2 for name in expected)

    second = runner.invoke(cli, ["topics", "create", "--config", str(path)])
    assert second.exit_code == 0, second.output
    assert "created  " not in second.output
    for name in expected:
        assert f"exists   {name} (unchanged)" in second.output
    assert "0 created, 8 already existed" in second.output


def test_bad_tier_is_a_config_error(tmp_path) -> None:
    """An unparseable retry tier exits 2 before touching the broker."""
    path = tmp_path / "c.yaml"
    path.write_text("retry:\n  tiers: [soon]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["topics", "create", "--config", str(path)])
    assert result.exit_code == 2
    assert "soon" in result.output
