"""Record value formats. `make_codec()` gives the decoder/encoder for one topic's settings."""

from __future__ import annotations

from typing import Any, Protocol

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
    topic: TopicSettings,
    registry: SchemaRegistrySettings,
    *,
    max_bytes: int = MAX_VALUE_BYTES,
    registry_client: Any | None = None,
) -> ValueCodec:
    """The codec for a topic's `value_format`.

    Avro takes writer schemas from the schema registry when `registry.url` is set (or a client is
    injected, as tests do with `mock://`), else from the pinned `topic.schema_file`.
    """
    if topic.value_format == "json":
        return JsonCodec(max_bytes)
    from pathlib import Path

    from processor.codecs.avro import AvroCodec
    from processor.codecs.registry import PinnedSchema, RegistrySchemas

    subject = f"{topic.name}-value"
    if registry_client is not None or registry.url:
        writer_text = Path(topic.schema_file).read_text(encoding="utf-8") if topic.schema_file else None
        if registry_client is not None:
            schemas: Any = RegistrySchemas(registry_client, writer_schema_text=writer_text)
        else:
            assert registry.url is not None
            schemas = RegistrySchemas.from_url(registry.url, writer_schema_text=writer_text)
        return AvroCodec(schemas, subject=subject, max_bytes=max_bytes)
    if topic.schema_file:
        return AvroCodec(
            PinnedSchema(topic.schema_file, topic.schema_id), subject=subject, max_bytes=max_bytes
        )
    raise ConfigError(
        f"topic {topic.name}: value_format avro needs topics.schema_registry.url or the topic's schema_file"
    )


__all__ = ["JsonCodec", "ValueCodec", "make_codec"]
