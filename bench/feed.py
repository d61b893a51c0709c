"""Broker I/O of the benchmarks: fill topics, read them back, and the bare-consumer ceiling.

Inbound traffic is `translate.segment_corpus` (every Segment message type, 5,000 users) keyed by
userId; outbound is `translate.cordial_corpus` (every channel, 5,000 contacts) keyed by cID. Every
loop here is bounded by a count and a deadline. Reads without a group use `assign()` so that they
never disturb a worker's consumer group.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from bench.translate import cordial_corpus, segment_corpus


@dataclass(frozen=True, slots=True)
class Event:
    key: bytes
    value: bytes


def inbound_events(n: int, seed: int = 7, tag: str = "") -> list[Event]:
    rng = random.Random(seed)
    out = []
    for message in segment_corpus(n, rng):
        if tag:
            message["messageId"] = f"{tag}-{message['messageId']}"
        out.append(Event(str(message["userId"]).encode(), orjson.dumps(message)))
    return out


def outbound_events(n: int, seed: int = 11, tag: str = "") -> list[Event]:
    rng = random.Random(seed)
    out = []
    for record in cordial_corpus(n, rng):
        if tag:
            record["_id"] = f"{tag}-{record['_id']}"
        out.append(Event(str(record["cID"]).encode(), orjson.dumps(record)))
    return out


def producer(bootstrap: str, linger_ms: int = 20) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": linger_ms,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "enable.idempotence": True,
        }
    )


def _check_delivery(failures: list[str]) -> Callable[[object, object], None]:
    def on_delivery(err: object, msg: object) -> None:
        if err is not None and len(failures) < 10:
            failures.append(str(err))

    return on_delivery


def prefill(bootstrap: str, topic: str, events: Iterable[Event], timeout_s: float = 300) -> float:
    """Produce every event and wait for the acks; return the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout_s
    failures: list[str] = []
    on_delivery = _check_delivery(failures)
    p = producer(bootstrap)
    for event in events:
        while True:
            try:
                p.produce(topic, key=event.key, value=event.value, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"pre-filling {topic} timed out") from None
        p.poll(0)
    left = p.flush(max(1.0, deadline - time.monotonic()))
    if left or failures:
        raise RuntimeError(f"pre-filling {topic}: {left} undelivered, errors {failures[:3]}")
    return time.monotonic() - started


def _assigned_consumer(bootstrap: str, topic: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-reader",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.max.bytes": 52_428_800,
        }
    )
    metadata = consumer.list_topics(topic, timeout=10)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        consumer.close()
        raise RuntimeError(f"topic {topic} not found")
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(found.partitions)])
    return consumer


def bare_consume(bootstrap: str, topic: str, expected: int, timeout_s: float) -> dict[str, float]:
    """Consume `topic` from the start doing nothing with the records; events/s first → last message."""
    consumer = _assigned_consumer(bootstrap, topic)
    count = first_batch = 0
    first = last = 0.0
    deadline = time.monotonic() + timeout_s
    try:
        while count < expected and time.monotonic() < deadline:
            messages = consumer.consume(num_messages=500, timeout=0.01)
            now = time.monotonic()
            for message in messages:
                if message.error() is None:
                    count += 1
            if messages:
                if not first:
                    first, first_batch = now, len(messages)
                last = now
    finally:
        consumer.close()
    seconds = max(last - first, 1e-6)
    counted = count - first_batch  # events that arrived after the clock started
    return {"events": count, "seconds": round(seconds, 3), "events_per_s": round(counted / seconds, 1)}


def read_timestamps(
    bootstrap: str, topic: str, expected: int, key_of: Callable[[bytes], str], timeout_s: float = 60
) -> dict[str, float]:
    """Each record's broker timestamp (seconds since the epoch), by `key_of(value)`."""
    consumer = _assigned_consumer(bootstrap, topic)
    out: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                if message.error() is not None:
                    continue
                kind, ms = message.timestamp()
                value = message.value()
                if value is not None and kind != 0:
                    out[key_of(value)] = ms / 1000
    except KafkaException as exc:
        raise RuntimeError(f"reading {topic} back failed: {exc}") from exc
    finally:
        consumer.close()
    return out
