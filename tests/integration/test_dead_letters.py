"""Permanent failures end in the DLQ with the SPEC §6 headers, bytes and key unchanged, while the
partition behind them keeps flowing: a 400 from Cordial, not JSON, no identifier, a 2 MB value."""

from __future__ import annotations

import pytest

from processor.demo.config import DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY
from processor.demo.kafka_io import publish
from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import SampleRecord, numbered_cordial_records, numbered_segment_messages

pytestmark = pytest.mark.kafka

BIG = 2 * 1024 * 1024
COMMON_HEADERS = (
    "cb-original-topic",
    "cb-original-partition",
    "cb-original-offset",
    "cb-original-timestamp",
    "cb-attempt",
    "cb-first-failure-at",
    "cb-error-class",
    "cb-error-message",
    "cb-direction",
)


def _poison(key: bytes, identified: bytes) -> list[tuple[SampleRecord, str]]:
    """(record, expected error class) for the three kinds of bad input, all on `key`."""
    return [
        (SampleRecord(key, b'{"type": "track", "event": ', "not JSON"), "invalid_json"),
        (SampleRecord(key, identified, "no identifier"), "missing_identifier"),
        (
            SampleRecord(key, b'{"type": "track", "blob": "' + b"x" * BIG + b'"}', "2 MB"),
            "message_too_large",
        ),
    ]


async def test_permanent_failures_are_dead_lettered_and_the_partition_keeps_flowing(
    make_bridge, emulators, poll_until
) -> None:
    # Room for a 2 MB record on the way in (test producer) and on the way to the DLQ (worker).
    bridge = make_bridge(client_overrides={"message.max.bytes": "4000000"})
    user, contact = "dl-u0", "dl-c0"
    inbound = numbered_segment_messages("dl", keys=1, per_key=6)
    outbound = numbered_cordial_records("dl", keys=1, per_key=6)
    rejected_by_api = SampleRecord(
        user.encode(),
        b'{"messageId": "dl-400", "type": "track", "userId": "dl-u0", "event": "Product Added",'
        b' "properties": {"product_id": "p1", "sku": "s1", "quantity": 0, "category": "c", "name": "n"},'
        b' "context": {"traits": {"email": "dl-u0@example.com"}}}',
        "qty 0: translates, but Cordial answers 400",
    )
    in_poison = _poison(user.encode(), b'{"type": "track", "event": "Ghost"}')
    out_poison = _poison(contact.encode(), b'{"_id": "ghost", "action": "open"}')
    in_stream = [e.record for e in inbound[:3]] + [rejected_by_api] + [r for r, _ in in_poison]
    in_stream += [e.record for e in inbound[3:]]
    out_stream = (
        [e.record for e in outbound[:3]] + [r for r, _ in out_poison] + [e.record for e in outbound[3:]]
    )
    big = {"message.max.bytes": 4_000_000}
    publish(bridge.bootstrap, bridge.source("inbound"), in_stream, producer_config=big)
    publish(bridge.bootstrap, bridge.source("outbound"), out_stream, producer_config=big)
    tail = bridge.tail()

    def flowed() -> bool:
        tail.drain(0.1)
        calls = accepted_cordial_calls(emulators.cordial_client.received())
        messages = accepted_segment_messages(emulators.segment_client.received())
        steps_in = [c.body["properties"]["seq"] for c in calls if c.body.get("action") == "Demo Step"]
        steps_out = [m["properties"]["properties_seq"] for m in messages if m.get("event") == "demo_step"]
        return (
            steps_in == list(range(6))
            and steps_out == list(range(6))
            and tail.count(bridge.dlq("inbound")) >= 4
            and tail.count(bridge.dlq("outbound")) >= 3
        )

    async with bridge.running():
        await poll_until(flowed, timeout_s=60, what="the stream to flow past the bad records into the DLQ")
    tail.drain(0.5)

    in_dlq = tail.records(bridge.dlq("inbound"))
    out_dlq = tail.records(bridge.dlq("outbound"))
    assert len(in_dlq) == 4
    assert len(out_dlq) == 3
    for direction, records, stream in (("inbound", in_dlq, in_stream), ("outbound", out_dlq, out_stream)):
        sent = {r.value: r for r in stream}
        for record in records:
            assert record.value in sent, "the original bytes, unchanged"
            assert record.key == sent[record.value].key, "the original key"
            missing = [name for name in COMMON_HEADERS if name not in record.headers]
            assert missing == [], missing
            assert record.headers["cb-original-topic"] == bridge.source(direction)
            assert record.headers["cb-direction"] == direction
            assert int(record.headers["cb-original-offset"]) >= 0
            assert "cb-due-at" not in record.headers
            assert record.headers["cb-error-message"]
            for secret in (DEMO_CORDIAL_KEY, DEMO_SEGMENT_KEY):
                assert secret not in str(record.headers)

    classes_in = {r.headers["cb-error-class"]: r for r in in_dlq}
    assert set(classes_in) == {"http_4xx", "invalid_json", "missing_identifier", "message_too_large"}
    api = classes_in["http_4xx"]
    assert api.value == rejected_by_api.value
    assert api.headers["cb-error-status"] == "400"
    assert api.headers["cb-action"] == "addProductToCart"
    assert {r.headers["cb-error-class"] for r in out_dlq} == {c for _, c in out_poison}
    # The rest of the 400'd message still went out (its activity), exactly once.
    calls = accepted_cordial_calls(emulators.cordial_client.received())
    assert [c.action for c in calls if c.body.get("action") == "Product Added"] == ["createContactactivity"]
