"""A Kafka record as the worker sees it, independent of confluent-kafka's `Message`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from processor.slots import slot_setter


@dataclass(frozen=True, slots=True, init=False)
class SourceRecord:
    """One consumed record. `offset` is its own position; commit `next_offset`."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes] = field(default_factory=dict)
    timestamp_ms: int | None = None

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Mapping[str, bytes] | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        _set_topic(self, topic)
        _set_partition(self, partition)
        _set_offset(self, offset)
        _set_key(self, key)
        _set_value(self, value)
        _set_headers(self, {} if headers is None else headers)
        _set_timestamp_ms(self, timestamp_ms)

    @property
    def next_offset(self) -> int:
        """The commit position after this record."""
        return self.offset + 1

    @property
    def position(self) -> str:
        """`topic:partition:offset`, the fall-back event id."""
        return f"{self.topic}:{self.partition}:{self.offset}"


# One record per consumed message: a hand-written __init__ (see processor/slots.py).
_set_topic = slot_setter(SourceRecord, "topic")
_set_partition = slot_setter(SourceRecord, "partition")
_set_offset = slot_setter(SourceRecord, "offset")
_set_key = slot_setter(SourceRecord, "key")
_set_value = slot_setter(SourceRecord, "value")
_set_headers = slot_setter(SourceRecord, "headers")
_set_timestamp_ms = slot_setter(SourceRecord, "timestamp_ms")
