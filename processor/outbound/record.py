"""The Cordial event record as the outbound translator sees it, and its structural checks.

A record is one JSON object from the `cordial-outbound` topic (seed `002_…txt` shows one). Only
the fields the translator reads are checked here; everything else is free-form and becomes a
flattened property.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from processor.errors import ErrorClass


class TranslationError(Exception):
    """Raised deep inside the translator; `OutboundTranslator.translate()` turns it into `Rejected`."""

    def __init__(self, error_class: ErrorClass, message: str) -> None:
        self.error_class = error_class
        self.message = message
        super().__init__(message)


class CordialRecord(NamedTuple):
    """The fields the translator reads, checked; `raw` is the whole record in its own key order.

    A NamedTuple rather than a frozen dataclass: built once per record, and a tuple is built
    several times faster."""

    raw: Mapping[str, object]
    action: str
    channel: str | None
    """The record's explicit `channel`, lower-cased; None when absent, null or empty."""
    cid: str | None
    """`cID` as a string; None when absent, null or empty."""


def describe_type(value: object) -> str:
    """The JSON name of a value's type, for error messages (never the value: it may be personal data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def require_object(value: object) -> Mapping[str, object]:
    """The record as a mapping, or `invalid_record` when it is not a JSON object."""
    # `type(...) is dict` first: the Mapping ABC check is slow and decoders give plain dicts.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise TranslationError(
            ErrorClass.INVALID_RECORD,
            f"a Cordial event record must be a JSON object, got {describe_type(value)}",
        )
    return value


def optional_text(record: Mapping[str, object], key: str) -> str | None:
    """A field that must be a string when present: null and `""` count as absent, an integer is
    accepted as its decimal string, anything else is a `validation` error."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TranslationError(ErrorClass.VALIDATION, f"`{key}` must be a string, got {describe_type(value)}")


def parse_record(value: object) -> CordialRecord:
    """Check the fields the translator relies on; raise `TranslationError` when they are unusable."""
    record = require_object(value)
    action = record.get("action")
    if action is None:  # absent or null
        raise TranslationError(ErrorClass.INVALID_RECORD, "record has no `action`")
    if not isinstance(action, str) or not action.strip():
        raise TranslationError(
            ErrorClass.VALIDATION, f"`action` must be a non-empty string, got {describe_type(action)}"
        )
    channel = record.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise TranslationError(
            ErrorClass.VALIDATION, f"`channel` must be a string, got {describe_type(channel)}"
        )
    normalised_channel = channel.strip().lower() if channel else None
    return CordialRecord(
        raw=record,
        action=action,
        channel=normalised_channel or None,
        cid=optional_text(record, "cID"),
    )
