"""createContactactivity: record an event for a contact (`type = "track" or type = "page"`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from processor.inbound.actions.definition import identity_prefix, ordered
from processor.inbound.payload import FieldSpec, Kind

ACTION: Final = "createContactactivity"
DEFAULT_TRIGGER: Final = 'type = "track" or type = "page"'
DEFAULT_FIELDS: Final[Mapping[str, object]] = {
    "action": ["$.event", {"@literal": "pageView"}],
    "time": "$.timestamp",
    "properties": "$.properties",
    "context": "$.context",
}
SCHEMA: Final = (
    FieldSpec("action", Kind.STRING, required=True),
    FieldSpec("time", Kind.ANY),
    FieldSpec("properties", Kind.OBJECT),
    FieldSpec("context", Kind.OBJECT),
)


def build_body(values: Mapping[str, object]) -> dict[str, object]:
    return {**identity_prefix(values), **ordered(values, ("action", "time", "properties", "context"))}
