"""The demo's own broker I/O: publish sample records, count and read the retry/DLQ topics.

The workers do the real work through `processor.runtime`; this module only plays the producer
that feeds them and the observer that reads what they wrote. Reads use `assign()` without a
consumer group, so they never trigger a rebalance of the workers' groups, and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from processor.demo.traffic import SampleRecord
from processor.errors import WorkerError


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """A record read back from a topic, headers decoded."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] = field(default_factory=dict)


def publish(
    bootstrap_servers: str,
    topic: str,
    records: Iterable[SampleRecord],
    timeout_s: float = 30,
    *,
    producer_config: Mapping[str, object] | None = None,
) -> int:
    """Produce every record (idempotent producer, in order per key); return how many."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "linger.ms": 5,
            **(producer_config or {}),
        }
    )
    failures: list[str] = []

    def on_delivery(err: object, msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    count = 0
    for record in records:
        producer.produce(topic, key=record.key, value=record.value, on_delivery=on_delivery)
        producer.poll(0)
        count += 1
    remaining = producer.flush(timeout_s)
    if remaining or failures:
        raise WorkerError(f"could not publish to {topic}: {remaining} undelivered, errors: {failures[:3]}")
    return count


def _decode_headers(raw: object) -> dict[str, str]:
    items = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list) else ()
    out: dict[str, str] = {}
    for name, value in items:
        out[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")
    return out


class TopicTail:
    """Follows a set of topics from their beginning and keeps every record read; no group.

    Counts come from reading, not from watermarks: the embedded broker reports a high watermark
    of base offset + 1 for a multi-record batch, so `high - low` undercounts.
    """

    def __init__(self, bootstrap_servers: str, topics: Sequence[str]) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": "cordial-bridge-demo-observer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        self.topics = list(dict.fromkeys(topics))
        self._records: dict[str, list[ReadRecord]] = {t: [] for t in self.topics}
        assignment = [
            TopicPartition(topic, partition, OFFSET_BEGINNING)
            for topic in self.topics
            for partition in self._partitions(topic)
        ]
        self._consumer.assign(assignment)

    def close(self) -> None:
        self._consumer.close()

    def _partitions(self, topic: str) -> list[int]:
        try:
            metadata = self._consumer.list_topics(topic, timeout=5)
        except KafkaException:
            return []
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return []
        return sorted(found.partitions)

    def drain(self, wait_s: float = 0.2) -> int:
        """Read whatever has arrived, until a poll waits `wait_s` for nothing; return how many."""
        count = 0
        while True:
            message = self._consumer.poll(wait_s)
            if message is None:
                return count
            if message.error() is not None:
                continue
            topic = message.topic() or ""
            record = ReadRecord(
                topic,
                message.partition() or 0,
                message.offset() or 0,
                message.key(),
                message.value(),
                _decode_headers(message.headers()),
            )
            self._records.setdefault(topic, []).append(record)
            count += 1

    def records(self, topic: str) -> list[ReadRecord]:
        return list(self._records.get(topic, ()))

    def count(self, topic: str) -> int:
        return len(self._records.get(topic, ()))
