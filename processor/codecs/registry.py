"""Where Avro writer schemas come from: a schema registry (cached by id) or a pinned .avsc file.

confluent-kafka's `SchemaRegistryClient` does the registry protocol (and its `mock://` registry
serves the tests); fastavro parses each writer schema once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import fastavro

from processor.errors import ConfigError


class SchemaLookupError(Exception):
    """A writer schema id that cannot be resolved (unknown id, registry unreachable)."""


class SchemaSource(Protocol):
    def writer_schema(self, schema_id: int) -> Any:
        """The parsed writer schema for an id (raises SchemaLookupError)."""
        ...

    def schema_for_writing(self, subject: str) -> tuple[int, Any]:
        """(schema id, parsed schema) this bridge writes with (raises ConfigError without one)."""
        ...


def _parse(text: str, origin: str) -> Any:
    try:
        return fastavro.parse_schema(json.loads(text))
    except (ValueError, fastavro.schema.SchemaParseException) as exc:
        raise ConfigError(f"invalid Avro schema: {exc}", where=origin) from exc


class PinnedSchema:
    """One schema from a file; records must carry `schema_id` if it is set, any id otherwise."""

    def __init__(self, path: str, schema_id: int | None = None) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read Avro schema: {exc.strerror}", where=path) from exc
        self.schema = _parse(text, path)
        self.schema_id = schema_id

    def writer_schema(self, schema_id: int) -> Any:
        if self.schema_id is not None and schema_id != self.schema_id:
            raise SchemaLookupError(f"schema id {schema_id} is not the pinned id {self.schema_id}")
        return self.schema

    def schema_for_writing(self, subject: str) -> tuple[int, Any]:
        return (self.schema_id or 1, self.schema)


class RegistrySchemas:
    """Writer schemas fetched from a schema registry by id, each fetched and parsed once."""

    def __init__(self, client: Any, *, writer_schema_text: str | None = None) -> None:
        self._client = client
        self._by_id: dict[int, Any] = {}
        self._writer_text = writer_schema_text
        self._writing: dict[str, tuple[int, Any]] = {}

    @classmethod
    def from_url(cls, url: str, *, writer_schema_text: str | None = None) -> RegistrySchemas:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        return cls(SchemaRegistryClient.new_client({"url": url}), writer_schema_text=writer_schema_text)

    def writer_schema(self, schema_id: int) -> Any:
        found = self._by_id.get(schema_id)
        if found is not None:
            return found
        try:
            registered = self._client.get_schema(schema_id)
        except Exception as exc:  # the client raises SchemaRegistryError, HTTP and socket errors
            raise SchemaLookupError(f"schema id {schema_id}: {exc}") from exc
        if getattr(registered, "schema_type", "AVRO") not in (None, "AVRO"):
            raise SchemaLookupError(f"schema id {schema_id} is {registered.schema_type}, not Avro")
        parsed = _parse(registered.schema_str, f"schema id {schema_id}")
        self._by_id[schema_id] = parsed
        return parsed

    def schema_for_writing(self, subject: str) -> tuple[int, Any]:
        cached = self._writing.get(subject)
        if cached is not None:
            return cached
        if self._writer_text is None:
            raise ConfigError(f"no Avro schema to write {subject} with: set the topic's schema_file")
        from confluent_kafka.schema_registry import Schema

        schema_id = int(self._client.register_schema(subject, Schema(self._writer_text, "AVRO")))
        result = (schema_id, _parse(self._writer_text, subject))
        self._writing[subject] = result
        self._by_id.setdefault(schema_id, result[1])
        return result
