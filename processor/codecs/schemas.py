"""The bridge's own Avro schemas (`schemas/*.avsc`, shipped inside the package) and the mapping
between JSON-shaped messages and their Avro records.

Free-form objects travel as JSON text so that nothing is lost in JSON → Avro → JSON; top-level keys
the schema does not name travel in `extra`. A typed field whose value does not fit its type (a
`userId` that is an object, say) also goes to `extra`, so even invalid messages survive the trip
and fail later in the translator with a precise error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

import fastavro

SEGMENT_MESSAGE: Final = "io.cordialbridge.SegmentMessage"
CORDIAL_EVENT: Final = "io.cordialbridge.CordialEventRecord"
DLQ_ENVELOPE: Final = "io.cordialbridge.DlqEnvelope"

_FILES: Final = {
    SEGMENT_MESSAGE: "segment_message.avsc",
    CORDIAL_EVENT: "cordial_event.avsc",
    DLQ_ENVELOPE: "dlq_envelope.avsc",
}

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


def schema_text(name: str) -> str:
    """The .avsc text of one of the bridge's schemas, by full name."""
    return resources.files("processor").joinpath("schemas", _FILES[name]).read_text(encoding="utf-8")


@cache
def parsed_schema(name: str) -> Any:
    """The fastavro-parsed schema of one of the bridge's schemas."""
    return fastavro.parse_schema(json.loads(schema_text(name)))


def json_text(value: object) -> str:
    """Compact JSON text that keeps key order and arbitrary-size integers."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _fits(value: object, avro_type: object) -> bool:
    """Whether a JSON value can be written as this (non-free-form) Avro field type."""
    kinds = avro_type if isinstance(avro_type, list) else [avro_type]
    for kind in kinds:
        if kind == "null" and value is None:
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "long" and isinstance(value, int) and not isinstance(value, bool):
            return INT64_MIN <= value <= INT64_MAX
        if kind == "double" and isinstance(value, float) and value == value and abs(value) != float("inf"):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
    return False


def _layout(schema: Mapping[str, Any]) -> tuple[dict[str, object], frozenset[str]]:
    """(typed field name → Avro type, free-form JSON-text field names) of a bridge schema."""
    typed: dict[str, object] = {}
    free: set[str] = set()
    for field in schema["fields"]:
        doc = field.get("doc", "")
        if field["name"] == "extra":
            continue
        if "JSON text" in doc:
            free.add(field["name"])
        else:
            typed[field["name"]] = field["type"]
    return typed, frozenset(free)


@cache
def _layout_of(name: str) -> tuple[dict[str, object], frozenset[str]]:
    return _layout(json.loads(schema_text(name)))


def to_avro(name: str, message: Mapping[str, object]) -> dict[str, object]:
    """A JSON-shaped message → the Avro record of schema `name` (SegmentMessage / CordialEventRecord)."""
    typed, free = _layout_of(name)
    record: dict[str, object] = dict.fromkeys(typed)
    record.update(dict.fromkeys(free))
    extra: dict[str, object] = {}
    for key, value in message.items():
        if key in free:
            record[key] = json_text(value)
        elif key in typed and value is not None and _fits(value, typed[key]):
            record[key] = value
        elif key in typed and value is None:
            continue
        else:
            extra[key] = value
    record["extra"] = json_text(extra) if extra else None
    return record


def from_avro(name: str, record: Mapping[str, object]) -> dict[str, object]:
    """The Avro record of schema `name` → the JSON-shaped message (null fields are absent keys)."""
    _typed, free = _layout_of(name)
    message: dict[str, object] = {}
    for key, value in record.items():
        if key == "extra" or value is None:
            continue
        message[key] = json.loads(value) if key in free and isinstance(value, str) else value
    extra = record.get("extra")
    if isinstance(extra, str):
        loaded = json.loads(extra)
        if isinstance(loaded, dict):
            message.update(loaded)
    return message


CONVERTIBLE: Final = frozenset({SEGMENT_MESSAGE, CORDIAL_EVENT})
