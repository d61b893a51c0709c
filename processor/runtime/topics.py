"""Topic naming and `topics create`: the source, retry-tier and DLQ topics of both directions.

Creation is idempotent: a topic that exists is reported as such and left alone. Blocks on the
admin client (run it off the event loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from processor.config.settings import KafkaSettings, Settings
from processor.runtime.kafka import CONSUMER_ONLY_PREFIXES, PRODUCER_ONLY_PREFIXES
from processor.runtime.retry import RetryPlan, dlq_topic

TopicState = Literal["created", "exists"]


def source_topic(settings: Settings, direction: str) -> str:
    if direction == "inbound":
        return settings.topics.segment_inbound.name
    if direction == "outbound":
        return settings.topics.cordial_outbound.name
    raise ValueError(f"unknown direction {direction!r}")


def direction_topics(settings: Settings, direction: str) -> list[str]:
    """Source, retry tiers (in order), DLQ."""
    source = source_topic(settings, direction)
    return [source, *RetryPlan.from_settings(settings.retry).topics(source), dlq_topic(source)]


def all_topics(settings: Settings, directions: Sequence[str] = ("inbound", "outbound")) -> list[str]:
    return [name for d in directions for name in direction_topics(settings, d)]


def admin_client(settings: KafkaSettings) -> AdminClient:
    skip = (*CONSUMER_ONLY_PREFIXES, *PRODUCER_ONLY_PREFIXES)
    config = {k: v for k, v in settings.client.items() if not k.startswith(skip)}
    return AdminClient({**config, "bootstrap.servers": settings.bootstrap_servers})


@dataclass(frozen=True, slots=True)
class TopicResult:
    name: str
    state: TopicState


def create_topics(
    settings: KafkaSettings, names: Sequence[str], *, timeout_s: float = 30.0
) -> list[TopicResult]:
    """Create each missing topic with the configured partitions; report what happened to each.

    Raises KafkaException for any failure other than "already exists".
    """
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    results: dict[str, TopicResult] = {n: TopicResult(n, "exists") for n in names if n in existing}
    missing = [n for n in dict.fromkeys(names) if n not in existing]
    if missing:
        new = [NewTopic(n, settings.partitions, settings.replication_factor) for n in missing]
        for name, future in admin.create_topics(new, operation_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
                results[name] = TopicResult(name, "created")
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    results[name] = TopicResult(name, "exists")
                else:
                    raise
    return [results[n] for n in dict.fromkeys(names)]
