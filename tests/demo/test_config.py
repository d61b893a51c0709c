"""The demo/test config goes through the real loader; the keys come from the environment only."""

from __future__ import annotations

from processor.demo.config import fast_config, load_config, write_config


def test_fast_config_loads_with_short_timings_and_secrets_from_env(tmp_path) -> None:
    path = write_config(
        tmp_path / "c.yaml",
        fast_config(
            bootstrap_servers="127.0.0.1:1",
            cordial_endpoint="http://127.0.0.1:2/",
            segment_endpoint="http://127.0.0.1:3",
            inbound_topic="in-x",
            tiers=("1s",),
        ),
    )
    text = path.read_text()
    assert "k-secret" not in text
    assert "api_key:" not in text
    settings = load_config(path, cordial_key="k-secret", segment_key="w-secret")
    assert settings.cordial.api_key is not None
    assert settings.cordial.api_key.reveal() == "k-secret"
    assert settings.segment.write_key is not None
    assert settings.segment.write_key.reveal() == "w-secret"
    assert settings.cordial.endpoint == "http://127.0.0.1:2"
    assert settings.topics.segment_inbound.name == "in-x"
    assert settings.retry.tiers == ("1s",)
    assert settings.kafka.client["max.poll.interval.ms"] == "6000"
