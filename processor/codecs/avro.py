"""Avro values in the Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the
Avro binary body (fastavro). `decode` never raises: every bad value becomes `Rejected(deserialization)`.

Records written with the bridge's own schemas (SegmentMessage, CordialEventRecord) are turned back
into the JSON-shaped messages the translators read; records of any other schema are passed on as
fastavro reads them.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from typing import Any, Final

import fastavro

from processor.codecs.registry import SchemaLookupError, SchemaSource
from processor.codecs.schemas import CONVERTIBLE, from_avro, to_avro
from processor.errors import ErrorClass
from processor.outcomes import Rejected

MAGIC_BYTE: Final = 0
HEADER: Final = struct.Struct(">bI")


def _reject(message: str) -> Rejected:
    return Rejected(ErrorClass.DESERIALIZATION, message)


class AvroCodec:
    """Decode/encode one topic's values. `subject` is `<topic>-value` (TopicNameStrategy)."""

    def __init__(self, schemas: SchemaSource, *, subject: str, max_bytes: int) -> None:
        self.schemas = schemas
        self.subject = subject
        self.max_bytes = max_bytes

    def decode(self, value: bytes | None) -> object | Rejected:
        if value is None:
            return _reject("record has no value (tombstone)")
        if len(value) > self.max_bytes:
            return Rejected(
                ErrorClass.MESSAGE_TOO_LARGE,
                f"value is {len(value)} bytes, over the {self.max_bytes}-byte limit",
            )
        if len(value) < HEADER.size:
            return _reject(f"truncated: {len(value)} bytes is shorter than the 5-byte Confluent header")
        magic, schema_id = HEADER.unpack_from(value)
        if magic != MAGIC_BYTE:
            return _reject(f"wrong magic byte {magic} (expected {MAGIC_BYTE}): not Confluent-framed Avro")
        try:
            schema = self.schemas.writer_schema(schema_id)
        except SchemaLookupError as exc:
            return _reject(f"unknown writer schema: {exc}")
        body = io.BytesIO(value)
        body.seek(HEADER.size)
        try:
            record = fastavro.schemaless_reader(body, schema, None)
        except Exception as exc:  # fastavro raises EOFError, StopIteration, ValueError, UnicodeDecodeError, …
            return _reject(f"corrupt or truncated Avro body for schema id {schema_id}: {type(exc).__name__}")
        if body.tell() != len(value):
            return _reject(
                f"{len(value) - body.tell()} trailing bytes after the Avro body (schema id {schema_id})"
            )
        name = schema.get("name") if isinstance(schema, Mapping) else None
        if name in CONVERTIBLE and isinstance(record, Mapping):
            try:
                return from_avro(name, record)
            except ValueError as exc:
                return _reject(f"a JSON-text field of {name} does not parse: {exc}")
        converted: object = record
        return converted

    def encode(self, obj: object) -> bytes:
        """Frame one message with the schema this topic writes with (raises ValueError if it does not fit)."""
        schema_id, schema = self.schemas.schema_for_writing(self.subject)
        name = schema.get("name") if isinstance(schema, Mapping) else None
        record: Any = obj
        if name in CONVERTIBLE:
            if not isinstance(obj, Mapping):
                raise ValueError(f"{name} values must be JSON objects")
            record = to_avro(name, obj)
        out = io.BytesIO()
        out.write(HEADER.pack(MAGIC_BYTE, schema_id))
        fastavro.schemaless_writer(out, schema, record)
        return out.getvalue()
