"""A Kafka record as the worker sees it, independent of confluent-kafka's `Message`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One consumed record. `offset` is its own position; commit `next_offset`."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes] = field(default_factory=dict)
    timestamp_ms: int | None = None

    @property
    def next_offset(self) -> int:
        """The commit position after this record."""
        return self.offset + 1

    @property
    def position(self) -> str:
        """`topic:partition:offset`, the fall-back event id."""
        return f"{self.topic}:{self.partition}:{self.offset}"
