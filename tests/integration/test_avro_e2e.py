"""Avro on both source topics, end to end: Confluent-framed records are decoded, translated and
delivered exactly as their JSON equivalents would be; undecodable values are dead-lettered as
`deserialization` while the partition keeps flowing (issue 7)."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import orjson
import pytest

from processor.codecs.avro import AvroCodec
from processor.codecs.registry import PinnedSchema
from processor.config.settings import TopicSettings
from processor.demo.kafka_io import publish
from processor.demo.observe import accepted_cordial_calls, accepted_segment_messages
from processor.demo.traffic import SampleRecord, numbered_cordial_records, numbered_segment_messages
from processor.inbound.requests import InboundTranslation
from processor.inbound.translate import InboundTranslator
from processor.outbound.messages import OutboundTranslation
from processor.outbound.translate import OutboundTranslator

pytestmark = pytest.mark.kafka

SCHEMAS = Path(__file__).resolve().parents[2] / "processor" / "schemas"
SCHEMA_ID = 42


def _avro_topic(topic: TopicSettings, schema: str) -> TopicSettings:
    return dataclasses.replace(
        topic, value_format="avro", schema_file=str(SCHEMAS / schema), schema_id=SCHEMA_ID
    )


def _codec(schema: str) -> AvroCodec:
    return AvroCodec(PinnedSchema(str(SCHEMAS / schema), SCHEMA_ID), subject="test", max_bytes=1 << 20)


def _as_avro(records: list[SampleRecord], codec: AvroCodec) -> list[SampleRecord]:
    return [SampleRecord(r.key, codec.encode(orjson.loads(r.value)), r.note) for r in records]


def _undecodable(key: bytes, good: bytes) -> list[SampleRecord]:
    return [
        SampleRecord(key, b'{"type": "track"}', "JSON on an Avro topic (wrong magic byte)"),
        SampleRecord(key, good[: len(good) // 2], "truncated body"),
        SampleRecord(key, good[:1] + struct.pack(">I", SCHEMA_ID + 1) + good[5:], "unknown schema id"),
    ]


async def test_avro_topics_deliver_like_json_and_dead_letter_bad_bytes(
    make_bridge, emulators, poll_until
) -> None:
    bridge = make_bridge()
    topics = bridge.settings.topics
    bridge.settings = dataclasses.replace(
        bridge.settings,
        topics=dataclasses.replace(
            topics,
            segment_inbound=_avro_topic(topics.segment_inbound, "segment_message.avsc"),
            cordial_outbound=_avro_topic(topics.cordial_outbound, "cordial_event.avsc"),
        ),
    )
    segment_codec, cordial_codec = _codec("segment_message.avsc"), _codec("cordial_event.avsc")
    inbound = [e.record for e in numbered_segment_messages("avro", keys=2, per_key=4)]
    outbound = [e.record for e in numbered_cordial_records("avro", keys=2, per_key=4)]
    in_avro, out_avro = _as_avro(inbound, segment_codec), _as_avro(outbound, cordial_codec)
    in_stream = in_avro[:2] + _undecodable(in_avro[0].key or b"", in_avro[0].value) + in_avro[2:]
    out_stream = out_avro[:2] + _undecodable(out_avro[0].key or b"", out_avro[0].value) + out_avro[2:]
    publish(bridge.bootstrap, bridge.source("inbound"), in_stream)
    publish(bridge.bootstrap, bridge.source("outbound"), out_stream)
    tail = bridge.tail()

    # What `translate` says the JSON equivalents must produce.
    translator_in = InboundTranslator(bridge.settings.inbound)
    expected_bodies = []
    for record in inbound:
        result = translator_in.translate(orjson.loads(record.value))
        assert isinstance(result, InboundTranslation)
        expected_bodies += [dict(request.body) for request in result.requests]
    translator_out = OutboundTranslator(bridge.settings.outbound)
    expected_messages = []
    for record in outbound:
        out = translator_out.translate(orjson.loads(record.value))
        assert isinstance(out, OutboundTranslation)
        expected_messages.append(out.message)

    def done() -> bool:
        tail.drain(0.1)
        calls = accepted_cordial_calls(emulators.cordial_client.received())
        messages = accepted_segment_messages(emulators.segment_client.received())
        return (
            len(calls) >= len(expected_bodies)
            and len(messages) >= len(expected_messages)
            and tail.count(bridge.dlq("inbound")) >= 3
            and tail.count(bridge.dlq("outbound")) >= 3
        )

    async with bridge.running():
        await poll_until(done, timeout_s=60, what="Avro records delivered and bad bytes dead-lettered")
    tail.drain(0.3)

    received_bodies = [c.body for c in accepted_cordial_calls(emulators.cordial_client.received())]
    assert sorted(map(orjson.dumps, received_bodies)) == sorted(map(orjson.dumps, expected_bodies))
    received = {m["messageId"]: m for m in accepted_segment_messages(emulators.segment_client.received())}
    for message in expected_messages:
        got = received[str(message["messageId"])]
        assert got["properties"] == message["properties"]
        assert got["event"] == message["event"]
        assert got["anonymousId"] == message["anonymousId"]
    for direction in ("inbound", "outbound"):
        dlq = tail.records(bridge.dlq(direction))
        assert len(dlq) == 3
        assert {r.headers["cb-error-class"] for r in dlq} == {"deserialization"}
        assert any("magic byte" in r.headers["cb-error-message"] for r in dlq)
        assert any("unknown writer schema" in r.headers["cb-error-message"] for r in dlq)
