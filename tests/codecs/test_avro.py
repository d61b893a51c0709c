"""Avro values: lossless JSON → Avro → JSON round trips, and every decode failure dead-letterable."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.codecs import JsonCodec, make_codec
from processor.codecs.avro import AvroCodec
from processor.codecs.registry import PinnedSchema
from processor.codecs.schemas import CORDIAL_EVENT, DLQ_ENVELOPE, SEGMENT_MESSAGE, parsed_schema, schema_text
from processor.config.settings import SchemaRegistrySettings, TopicSettings
from processor.errors import ConfigError, ErrorClass
from processor.outcomes import Rejected

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
segment_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias"])},
    optional={
        "messageId": st.text(max_size=10),
        "userId": json_values,
        "anonymousId": st.text(max_size=10) | st.integers(),
        "event": st.text(max_size=10),
        "timestamp": st.text(max_size=24) | st.integers(0, 2**40) | st.floats(0, 1e12),
        "traits": json_values,
        "properties": st.dictionaries(st.text(max_size=6), json_values, max_size=5),
        "context": json_values,
        "integrations": json_values,
        "version": json_values,
        "custom top-level": json_values,
    },
)
cordial_records = st.fixed_dictionaries(
    {"action": st.text(max_size=12), "cID": st.text(max_size=12)},
    optional={
        "_id": st.text(max_size=12),
        "time": st.text(max_size=24) | st.integers(0, 2**40),
        "bmID": st.text(max_size=10),
        "mcID": st.text(max_size=10),
        "channel": st.sampled_from(["email", "mobile", "sms", "rest"]),
        "properties": json_values,
        "system_properties": json_values,
        "d": json_values,
        "lTags": st.lists(st.text(max_size=5), max_size=3),
        "first": st.booleans(),
        "segment_id": st.text(max_size=8),
    },
)


def _strip_top_level_nulls(message: dict[str, object], typed: set[str]) -> dict[str, object]:
    return {k: v for k, v in message.items() if not (k in typed and v is None)}


def _codec(schema: str, schema_id: int | None = None) -> AvroCodec:
    return AvroCodec(PinnedSchema(str(SCHEMAS / schema), schema_id), subject="t-value", max_bytes=1_048_576)


class TestRoundTrip:
    @settings(max_examples=150, deadline=None)
    @given(segment_messages)
    def test_segment_message_survives(self, message: dict[str, object]) -> None:
        """Every value, type and nested key order of a Segment message comes back."""
        codec = _codec("segment_message.avsc")
        back = codec.decode(codec.encode(message))
        assert isinstance(back, dict)
        expected = _strip_top_level_nulls(
            message, {"messageId", "userId", "anonymousId", "event", "timestamp"}
        )
        assert back == expected
        for key in ("traits", "properties", "context"):
            if key in message:
                assert json.dumps(back[key]) == json.dumps(message[key]), "nested key order is kept"

    @settings(max_examples=150, deadline=None)
    @given(cordial_records)
    def test_cordial_record_survives(self, record: dict[str, object]) -> None:
        codec = _codec("cordial_event.avsc")
        back = codec.decode(codec.encode(record))
        assert back == record

    def test_typed_fields_come_first_then_extra_in_order(self) -> None:
        """Decoded Cordial records list typed fields in schema order, then the rest as written."""
        codec = _codec("cordial_event.avsc")
        record = {"first": True, "d": {"type": "computer"}, "cID": "c1", "action": "click", "lTags": ["a"]}
        back = codec.decode(codec.encode(record))
        assert isinstance(back, dict)
        assert list(back) == ["action", "cID", "first", "d", "lTags"]

    def test_dlq_envelope_schema_parses_and_writes(self) -> None:
        """The DLQ envelope is a valid schema that holds raw bytes and headers."""
        import io

        import fastavro

        schema = parsed_schema(DLQ_ENVELOPE)
        envelope = {
            "dlq_topic": "t.dlq",
            "dlq_partition": 0,
            "dlq_offset": 5,
            "key": b"k",
            "value": b"\x00\xff",
            "error_class": "invalid_json",
            "headers": {"cb-error-class": "invalid_json"},
        }
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, envelope)
        buf.seek(0)
        back = fastavro.schemaless_reader(buf, schema, None)
        assert isinstance(back, dict)
        assert back["value"] == b"\x00\xff"
        assert back["headers"] == {"cb-error-class": "invalid_json"}

    @pytest.mark.parametrize("name", [SEGMENT_MESSAGE, CORDIAL_EVENT, DLQ_ENVELOPE])
    def test_every_field_is_documented(self, name: str) -> None:
        schema = json.loads(schema_text(name))
        assert schema["doc"]
        assert all(field.get("doc") for field in schema["fields"])


class TestDecodeFailures:
    """Bad bytes are Rejected(deserialization), never an exception."""

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            pytest.param(None, "tombstone", id="tombstone"),
            pytest.param(b"\x00\x00", "truncated", id="shorter-than-header"),
            pytest.param(b'{"type":"identify"}', "wrong magic byte", id="json-not-avro"),
            pytest.param(struct.pack(">bI", 0, 1) + b"\x02", "corrupt or truncated", id="truncated-body"),
        ],
    )
    def test_rejected(self, value: bytes | None, fragment: str) -> None:
        result = _codec("segment_message.avsc").decode(value)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.DESERIALIZATION
        assert fragment in result.message

    def test_trailing_bytes(self) -> None:
        codec = _codec("segment_message.avsc")
        result = codec.decode(codec.encode({"type": "track"}) + b"junk")
        assert isinstance(result, Rejected)
        assert "trailing" in result.message

    def test_unknown_schema_id_with_pinned_id(self) -> None:
        writer = _codec("segment_message.avsc", schema_id=7)
        reader = _codec("segment_message.avsc", schema_id=8)
        result = reader.decode(writer.encode({"type": "track"}))
        assert isinstance(result, Rejected)
        assert "unknown writer schema" in result.message

    def test_oversized_value(self) -> None:
        codec = AvroCodec(
            PinnedSchema(str(SCHEMAS / "segment_message.avsc")), subject="t-value", max_bytes=10
        )
        result = codec.decode(b"\x00" * 11)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.MESSAGE_TOO_LARGE

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=64))
    def test_arbitrary_bytes_never_raise(self, value: bytes) -> None:
        result = _codec("segment_message.avsc").decode(value)
        assert isinstance(result, Rejected | dict)


class TestRegistry:
    def test_writer_schema_from_registry_and_unknown_id(self) -> None:
        """With a registry, the writer schema is looked up by the record's id; unknown ids are rejected."""
        client = SchemaRegistryClient.new_client({"url": "mock://avro-tests"})
        topic = TopicSettings(
            "segment-inbound", value_format="avro", schema_file=str(SCHEMAS / "segment_message.avsc")
        )
        codec = make_codec(topic, SchemaRegistrySettings(url="mock://avro-tests"), registry_client=client)
        encoded = codec.encode({"type": "identify", "userId": "u1", "traits": {"email": "a@b.com"}})
        schema_id = struct.unpack(">bI", encoded[:5])[1]
        assert client.get_schema(schema_id).schema_str == schema_text(SEGMENT_MESSAGE)
        assert codec.decode(encoded) == {"type": "identify", "userId": "u1", "traits": {"email": "a@b.com"}}
        unknown = encoded[:1] + struct.pack(">I", schema_id + 100) + encoded[5:]
        result = codec.decode(unknown)
        assert isinstance(result, Rejected)
        assert result.error_class is ErrorClass.DESERIALIZATION

    def test_foreign_schema_records_pass_through(self) -> None:
        """A record of a user's own schema is read as fastavro reads it."""
        client = SchemaRegistryClient.new_client({"url": "mock://foreign"})
        own = json.dumps(
            {
                "type": "record",
                "name": "Mine",
                "fields": [{"name": "type", "type": "string"}, {"name": "userId", "type": "string"}],
            }
        )
        schema_id = client.register_schema("x-value", Schema(own, "AVRO"))
        import io

        import fastavro

        buf = io.BytesIO()
        buf.write(struct.pack(">bI", 0, schema_id))
        fastavro.schemaless_writer(
            buf, fastavro.parse_schema(json.loads(own)), {"type": "identify", "userId": "u"}
        )
        codec = make_codec(
            TopicSettings("x", value_format="avro"), SchemaRegistrySettings(), registry_client=client
        )
        assert codec.decode(buf.getvalue()) == {"type": "identify", "userId": "u"}


class TestMakeCodec:
    def test_json_is_default(self) -> None:
        assert isinstance(make_codec(TopicSettings("t"), SchemaRegistrySettings()), JsonCodec)

    def test_avro_without_schema_source_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match=r"schema_registry\.url or the topic's schema_file"):
            make_codec(TopicSettings("t", value_format="avro"), SchemaRegistrySettings())

    def test_bad_schema_file_is_a_config_error(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.avsc"
        bad.write_text('{"type": "record"}')
        with pytest.raises(ConfigError, match="invalid Avro schema"):
            make_codec(
                TopicSettings("t", value_format="avro", schema_file=str(bad)), SchemaRegistrySettings()
            )
