"""A small-timing configuration for the demo and the end-to-end tests, as YAML-able data.

One function builds the config as the YAML a user would write; `write_config` saves it for a
`cordial-bridge run --config FILE` subprocess and `load_config` turns it into `Settings` through
the real loader (secrets from the given environment, never from the file). The timings are
short so that a run on the embedded broker finishes in seconds: Tansu holds a group join for
the rebalance timeout, which librdkafka derives from `max.poll.interval.ms`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from processor.config.loader import load_settings
from processor.config.settings import Settings

DEMO_CORDIAL_KEY = "demo-cordial-key"
DEMO_SEGMENT_KEY = "demo-segment-write-key"

FAST_CLIENT: Mapping[str, str] = {
    "max.poll.interval.ms": "6000",
    "session.timeout.ms": "6000",
    "heartbeat.interval.ms": "500",
}


def fast_config(
    *,
    bootstrap_servers: str,
    cordial_endpoint: str,
    segment_endpoint: str,
    inbound_topic: str = "segment-inbound",
    outbound_topic: str = "cordial-outbound",
    group_id: str = "cordial-bridge-demo",
    partitions: int = 3,
    tiers: Sequence[str] = ("1s", "2s"),
    max_attempts: int = 8,
    in_process_attempts: int = 2,
    metrics_port: int = 0,
    client_overrides: Mapping[str, str] | None = None,
    log_level: str = "warning",
) -> dict[str, object]:
    """The config (YAML structure) for a quick local run against the emulators."""
    http = {
        "timeout_s": 5.0,
        "connect_timeout_s": 2.0,
        "in_process_attempts": in_process_attempts,
        "backoff_base_s": 0.05,
        "backoff_max_s": 0.5,
        "max_concurrency": 16,
    }
    return {
        "kafka": {
            "bootstrap_servers": bootstrap_servers,
            "group_id": group_id,
            "partitions": partitions,
            "client": {**FAST_CLIENT, **(client_overrides or {})},
        },
        "topics": {"segment_inbound": {"name": inbound_topic}, "cordial_outbound": {"name": outbound_topic}},
        "cordial": {"endpoint": cordial_endpoint, "http": http},
        "segment": {"endpoint": segment_endpoint, "linger_ms": 20, "http": http},
        "retry": {"tiers": list(tiers), "max_attempts": max_attempts},
        "worker": {
            "commit_interval_s": 0.2,
            "shutdown_deadline_s": 5.0,
            "auth_probe_initial_s": 0.2,
            "auth_probe_max_s": 1.0,
            "poll_timeout_s": 0.05,
        },
        "ops": {"metrics_host": "127.0.0.1", "metrics_port": metrics_port, "log_level": log_level},
    }


def write_config(path: str | Path, config: Mapping[str, object]) -> Path:
    target = Path(path)
    target.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
    return target


def key_environment(
    cordial_key: str = DEMO_CORDIAL_KEY, segment_key: str = DEMO_SEGMENT_KEY
) -> dict[str, str]:
    """The environment variables the loader reads the two secrets from (default names)."""
    return {"CORDIAL_API_KEY": cordial_key, "SEGMENT_WRITE_KEY": segment_key}


def load_config(
    path: str | Path,
    *,
    cordial_key: str = DEMO_CORDIAL_KEY,
    segment_key: str = DEMO_SEGMENT_KEY,
) -> Settings:
    """Settings from a file written by `write_config`, secrets from an explicit environment."""
    return load_settings(path, environ=key_environment(cordial_key, segment_key))
