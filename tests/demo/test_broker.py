"""The broker fixture really is a Kafka-protocol broker: produce, consume in a group, commit."""

from __future__ import annotations

import time

import pytest

from processor.demo.broker import EmbeddedBroker, free_port

pytestmark = pytest.mark.kafka


def test_produce_consume_commit_roundtrip(topic_factory, producer_factory, consumer_factory) -> None:
    """Records produced with keys come back in per-partition order, and a commit sticks."""
    topic = topic_factory("roundtrip", partitions=2)
    producer = producer_factory()
    for i in range(50):
        producer.produce(topic, key=f"k{i % 5}".encode(), value=str(i).encode())
    assert producer.flush(10) == 0

    consumer = consumer_factory()
    consumer.subscribe([topic])
    seen: dict[bytes, list[int]] = {}
    deadline = time.monotonic() + 30
    while sum(map(len, seen.values())) < 50 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        seen.setdefault(message.key(), []).append(int(message.value()))
    assert sum(map(len, seen.values())) == 50
    for values in seen.values():
        assert values == sorted(values), "per-key order must hold"
    committed = consumer.commit(asynchronous=False)
    assert committed is not None
    assert sum(tp.offset for tp in committed) == 50


def test_embedded_broker_stops_cleanly() -> None:
    """The embedded broker binds the requested port and releases it on stop."""
    port = free_port()
    with EmbeddedBroker(port=port) as broker:
        assert broker.bootstrap_servers.endswith(f":{port}")
        assert broker.pid is not None
    assert broker.pid is None
