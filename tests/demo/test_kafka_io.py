"""The demo's broker I/O: publish keeps per-key order, and the tail
reads every record with its headers (counted by reading, not by watermarks)."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer

from processor.demo.kafka_io import TopicTail, publish
from processor.demo.traffic import numbered_segment_messages

pytestmark = pytest.mark.kafka


def _drain_until(tail: TopicTail, topic: str, count: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while tail.count(topic) < count and time.monotonic() < deadline:
        tail.drain()


def test_create_publish_and_tail(kafka_broker, unique_name) -> None:
    bootstrap = kafka_broker.bootstrap_servers
    topic = unique_name("demo-io")
    dlq = f"{topic}.dlq"
    kafka_broker.create_topic(topic, 2)
    kafka_broker.create_topic(dlq, 2)

    events = numbered_segment_messages("io", keys=3, per_key=4)
    assert publish(bootstrap, topic, [e.record for e in events]) == 12
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(dlq, key=b"k", value=b"v", headers=[("cb-error-class", b"invalid_json")])
    assert producer.flush(10) == 0

    tail = TopicTail(bootstrap, [topic, dlq])
    try:
        _drain_until(tail, topic, 12)
        _drain_until(tail, dlq, 1)
        assert tail.count(topic) == 12
        by_key: dict[bytes | None, list[bytes | None]] = {}
        for record in tail.records(topic):
            by_key.setdefault(record.key, []).append(record.value)
        for key in {e.key for e in events}:
            expected = [e.record.value for e in events if e.key == key]
            assert by_key[key.encode()] == expected, "per-key order survives the round trip"
        assert [(r.key, r.headers) for r in tail.records(dlq)] == [(b"k", {"cb-error-class": "invalid_json"})]
        tail.drain()
        assert tail.count(topic) == 12, "nothing is read twice"
    finally:
        tail.close()
