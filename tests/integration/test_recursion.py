"""Recursion blocking: Cordial echoes every activity it receives back into `cordial-outbound`
marked `origin: "segment"` (as a real account wired both ways would); none of it reaches Segment,
while genuine Cordial events still do."""

from __future__ import annotations

import asyncio
import threading

import orjson
import pytest
from confluent_kafka import Producer

from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import numbered_cordial_records, numbered_segment_messages

pytestmark = pytest.mark.kafka


class Echo:
    """The Cordial emulator's `on_activity` hook: produce each activity to the outbound topic."""

    def __init__(self) -> None:
        self.producer: Producer | None = None
        self.topic = ""
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, object]) -> None:
        assert self.producer is not None
        with self._lock:
            self.count += 1
            n = self.count
        cid = f"echo-{body.get('segmentId')}"
        record = {
            "_id": f"echo-{n:04d}",
            "action": body.get("action"),
            "time": "2026-03-14T09:26:53+0000",
            "cID": cid,
            "origin": "segment",
            "properties": body.get("properties"),
        }
        self.producer.produce(self.topic, key=cid.encode(), value=orjson.dumps(record))
        self.producer.poll(0)


async def test_activities_echoed_from_cordial_never_reach_segment(
    make_bridge, emulator_factory, poll_until
) -> None:
    echo = Echo()
    emulators = emulator_factory(on_activity=echo)
    bridge = make_bridge(emulators_override=emulators)
    echo.topic = bridge.source("outbound")
    producer = Producer({"bootstrap.servers": bridge.bootstrap, "linger.ms": 5})
    echo.producer = producer
    inbound = numbered_segment_messages("rec", keys=2, per_key=5)
    genuine = numbered_cordial_records("rec", keys=2, per_key=3)
    bridge.publish("inbound", [e.record for e in inbound])
    bridge.publish("outbound", [e.record for e in genuine])

    def settled(running) -> bool:
        producer.flush(1)
        calls = accepted_cordial_calls(emulators.cordial_client.received())
        messages = accepted_segment_messages(emulators.segment_client.received())
        return (
            len(calls) >= len(inbound)
            and len(messages) >= len(genuine)
            and running.sample("cordial_bridge_records_blocked_total", direction="outbound") >= len(inbound)
        )

    async with bridge.running() as running:
        await poll_until(lambda: settled(running), timeout_s=60, what="echoes to be blocked")
        await asyncio.sleep(1.0)  # anything that slipped through would arrive now
        blocked = running.sample("cordial_bridge_records_blocked_total", direction="outbound")
    assert echo.count >= len(inbound), "Cordial echoed every activity (a duplicate delivery echoes twice)"
    assert blocked == echo.count, "every echo was blocked"
    messages = accepted_segment_messages(emulators.segment_client.received())
    assert not [m for m in messages if str(m.get("anonymousId", "")).startswith("echo-")]
    assert sorted((m["anonymousId"], m["properties"]["properties_seq"]) for m in messages) == sorted(
        (e.key, e.seq) for e in genuine
    ), "genuine Cordial events still reach Segment, once each"
    tail = bridge.tail(["outbound"])
    tail.drain(0.3)
    assert tail.count(bridge.dlq("outbound")) == 0, "blocked is not an error"
