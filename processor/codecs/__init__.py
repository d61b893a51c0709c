"""Record value formats. `make_codec()` gives the decoder/encoder for one topic's settings."""

from __future__ import annotations

from typing import Protocol

from processor.codecs.json import MAX_VALUE_BYTES, decode_json, encode_json
from processor.config.settings import SchemaRegistrySettings, TopicSettings
from processor.errors import ConfigError
from processor.outcomes import Rejected


class ValueCodec(Protocol):
    """Decodes one record value; never raises on bad bytes (returns `Rejected`)."""

    def decode(self, value: bytes | None) -> object | Rejected: ...

    def encode(self, obj: object) -> bytes: ...


class JsonCodec:
    """JSON values (the default format)."""

    def __init__(self, max_bytes: int = MAX_VALUE_BYTES) -> None:
        self.max_bytes = max_bytes

    def decode(self, value: bytes | None) -> object | Rejected:
        return decode_json(value, max_bytes=self.max_bytes)

    def encode(self, obj: object) -> bytes:
        return encode_json(obj)


def make_codec(
    topic: TopicSettings, registry: SchemaRegistrySettings, *, max_bytes: int = MAX_VALUE_BYTES
) -> ValueCodec:
    """The codec for a topic's `value_format`."""
    if topic.value_format == "json":
        return JsonCodec(max_bytes)
    raise ConfigError(f"topic {topic.name}: value format {topic.value_format!r} is not available yet")


__all__ = ["JsonCodec", "ValueCodec", "make_codec"]
