"""Broker I/O of the latency phase: a paced producer that adds no avoidable delay, and the floor.

Record timestamps are CreateTime: librdkafka stamps a record when `produce()` is called, so every
latency figure (the processor's and the floor's) includes the producer's own path. Hence:

* `PacedProducer` lingers 0 ms, is polled every ~2 ms and is *warmed* before the clock starts.
  A fresh idempotent producer on a new topic holds its first records ~0.5 s (topic metadata and
  producer id): measured on Tansu at ~1,000 records/s, produce→ack p99 was 446 ms cold and 9 ms
  warm, and that start-up alone put ~450 ms into the p99 of both the processor and the floor.
* `floor()` reads the paced records with two bare consumers built from the worker's own
  librdkafka config (`consumer_config`, `kafka.client` pass-through included), assigned to every
  partition: one takes each record as soon as librdkafka has it (the broker floor: what any
  consumer with these settings sees), the other calls `consume(500, worker.poll_timeout_s)` as the
  worker's poll loop does, which waits the full timeout unless 500 records are queued.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition

from bench.feed import Event

PRODUCER = {
    "linger.ms": 0,
    "enable.idempotence": True,
    "queue.buffering.max.messages": 500_000,
}
WORKER_BATCH = 500
"""The most records the worker asks `consume()` for (processor/runtime/worker.py MAX_BATCH)."""


class PacedProducer:
    """One producer for the warm-up and the paced run, so the paced records never pay its start-up."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER})
        self._failures: list[str] = []

    def __enter__(self) -> PacedProducer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._producer.flush(10)

    def _on_delivery(self, err: object, msg: object) -> None:
        if err is not None and len(self._failures) < 10:
            self._failures.append(str(err))

    def _produce(self, topic: str, event: Event) -> None:
        self._producer.produce(topic, key=event.key, value=event.value, on_delivery=self._on_delivery)

    def _flush(self, topic: str, timeout_s: float) -> None:
        left = self._producer.flush(timeout_s)
        if left or self._failures:
            raise RuntimeError(f"producing to {topic}: {left} undelivered, errors {self._failures[:3]}")

    def warm(self, topic: str, events: Sequence[Event], timeout_s: float = 30) -> None:
        """Produce `events` and wait for every ack: metadata, producer id and connection are ready."""
        for event in events:
            self._produce(topic, event)
        self._flush(topic, timeout_s)

    def pace(
        self, topic: str, events: Sequence[Event], rate_per_s: float, timeout_s: float
    ) -> tuple[int, float]:
        """Produce `events` at `rate_per_s` (small bursts every ~2 ms); return (produced, seconds)."""
        started = time.monotonic()
        deadline = started + timeout_s
        sent = 0
        while sent < len(events) and time.monotonic() < deadline:
            due = min(len(events), int((time.monotonic() - started) * rate_per_s) + 1)
            while sent < due:
                self._produce(topic, events[sent])
                sent += 1
            self._producer.poll(0)
            time.sleep(0.002)
        elapsed = time.monotonic() - started
        self._flush(topic, 30)
        return sent, elapsed


def _prompt(consumer: Consumer) -> list[Message]:
    """Whatever librdkafka holds, as soon as it holds anything (returns on the first record)."""
    first = consumer.consume(1, 0.05)
    return first + consumer.consume(WORKER_BATCH - 1, 0) if first else first


@dataclass
class _Reader:
    """A bare consumer on every partition from the start, until it has seen `expected` records;
    samples those stamped from `since_ms` on (whole milliseconds, as record timestamps are)."""

    config: Mapping[str, Any]
    topic: str
    take: Callable[[Consumer], list[Message]]
    expected: int
    since_ms: float = float("inf")
    seen: int = 0
    samples_ms: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        consumer = Consumer(dict(self.config))
        try:
            found = consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
            partitions = sorted(found.partitions) if found is not None and found.error is None else [0]
            consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
            while self.seen < self.expected and not self.stop.is_set():
                for message in self.take(consumer):
                    if message.error() is not None:
                        continue
                    now_ms = time.time() * 1000
                    self.seen += 1
                    stamp = message.timestamp()[1]
                    if stamp >= self.since_ms:
                        self.samples_ms.append(now_ms - stamp)
        finally:
            consumer.close()


@dataclass
class Floor:
    bare_ms: list[float]
    """Broker → a consumer with the worker's librdkafka settings that takes each record at once."""
    worker_poll_ms: list[float]
    """The same, read with the worker's `consume(500, poll_timeout_s)` calls."""


def floor(
    bootstrap: str,
    topic: str,
    consumer_config: Mapping[str, Any],
    poll_timeout_s: float,
    *,
    warm: Sequence[Event],
    events: Sequence[Event],
    rate_per_s: float,
    timeout_s: float,
) -> Floor:
    """Paced records → two bare consumers (see the module docstring); ms from each record's timestamp."""
    config = {**consumer_config, "bootstrap.servers": bootstrap, "enable.auto.commit": False}
    readers = [
        _Reader(config, topic, _prompt, len(warm) + len(events)),
        _Reader(config, topic, lambda c: c.consume(WORKER_BATCH, poll_timeout_s), len(warm) + len(events)),
    ]
    threads = [threading.Thread(target=r.run, name="bench-floor-reader", daemon=True) for r in readers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s + 15
    try:
        with PacedProducer(bootstrap) as producer:
            producer.warm(topic, warm)
            while any(r.seen < len(warm) for r in readers) and time.monotonic() < deadline:
                time.sleep(0.05)  # both consumers connected and fetching before the clock starts
            since = int(time.time() * 1000)  # a record stamped in this millisecond is paced
            for reader in readers:
                reader.since_ms = since
            producer.pace(topic, events, rate_per_s, timeout_s)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + 1)
    finally:
        for reader in readers:
            reader.stop.set()
        for thread in threads:
            thread.join(5)
    return Floor(readers[0].samples_ms, readers[1].samples_ms)
