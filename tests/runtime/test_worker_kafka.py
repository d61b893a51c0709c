"""The worker on the real broker: delivery, order, retry topics, DLQ, auth pause, shutdown commits."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from processor.ops.metrics import BridgeMetrics
from processor.ops.readiness import Readiness
from processor.runtime.worker import Worker

from .fakes import FakeSink, broker_settings, dumps, fake_direction, wait_for

pytestmark = pytest.mark.kafka


async def start(worker: Worker) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    return stop, task


async def test_delivers_every_record_in_key_order(kafka_broker, unique_name, producer_factory):
    """Every record reaches the sink once, and records of one key arrive in produced order."""
    source = unique_name("src")
    settings = broker_settings(kafka_broker.bootstrap_servers, source, unique_name("g"))
    sink = FakeSink()
    sink.delay_s = 0.002
    worker = Worker(
        fake_direction(source, sink),
        settings,
        metrics=BridgeMetrics(CollectorRegistry()),
        readiness=Readiness(),
    )
    stop, task = await start(worker)
    await wait_for(lambda: worker.parts, what="assignment")
    producer = producer_factory()
    for i in range(300):
        key = f"k{i % 7}"
        producer.produce(source, key=key.encode(), value=dumps({"id": i, "key": key}))
    producer.flush(10)
    await wait_for(lambda: len(sink.delivered) >= 300, what="300 deliveries")
    stop.set()
    await task
    by_key: dict[str, list[int]] = {}
    for payload in sink.delivered:
        by_key.setdefault(payload["key"], []).append(payload["id"])
    assert sorted(p["id"] for p in sink.delivered) == list(range(300))
    for ids in by_key.values():
        assert ids == sorted(ids)
    assert sink.closed
