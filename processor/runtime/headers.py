"""The `cb-*` headers on retry and DLQ records (SPEC §6): names, encoding, truncation, redaction.

The record's bytes are never rewritten; these headers carry all bookkeeping. Values are UTF-8.
Error messages are truncated and scrubbed of anything that looks like a key before they are
written, as a second fence behind `Secret`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

ORIGINAL_TOPIC: Final = "cb-original-topic"
ORIGINAL_PARTITION: Final = "cb-original-partition"
ORIGINAL_OFFSET: Final = "cb-original-offset"
ORIGINAL_TIMESTAMP: Final = "cb-original-timestamp"
ATTEMPT: Final = "cb-attempt"
FIRST_FAILURE_AT: Final = "cb-first-failure-at"
DUE_AT: Final = "cb-due-at"
ERROR_CLASS: Final = "cb-error-class"
ERROR_STATUS: Final = "cb-error-status"
ERROR_MESSAGE: Final = "cb-error-message"
DIRECTION: Final = "cb-direction"
ACTION: Final = "cb-action"
REPLAYED: Final = "cb-replayed"
VALUE_OMITTED: Final = "cb-value-omitted"
"""Set (to the original size in bytes) on a DLQ record whose value the broker refused to store;
the bytes are still at cb-original-topic/partition/offset."""

ALL: Final = (
    ORIGINAL_TOPIC,
    ORIGINAL_PARTITION,
    ORIGINAL_OFFSET,
    ORIGINAL_TIMESTAMP,
    ATTEMPT,
    FIRST_FAILURE_AT,
    DUE_AT,
    ERROR_CLASS,
    ERROR_STATUS,
    ERROR_MESSAGE,
    DIRECTION,
    ACTION,
    REPLAYED,
    VALUE_OMITTED,
)

MAX_MESSAGE_CHARS: Final = 1000

_SECRET_PATTERNS: Final = (
    # First, so "Authorization: Basic <token>" loses the token and not just the scheme word.
    re.compile(r"(?i)(basic|bearer)(\s+)([A-Za-z0-9+/=._-]{8,})"),
    re.compile(r"(?i)(x-api-key|authorization|api[_-]?key|write[_-]?key|password|token)(\s*[:=]\s*)(\S+)"),
    re.compile(r"(?i)(basic|bearer)(\s+)([A-Za-z0-9+/=._-]{8,})"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values and anything shaped like a credential."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[REDACTED]", text)
    return text


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encode(headers: Mapping[str, str | int | None]) -> list[tuple[str, bytes]]:
    """Header list for confluent-kafka; None values are left out."""
    return [(name, str(value).encode()) for name, value in headers.items() if value is not None]


def decode(raw: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """confluent-kafka's header list → dict (last value wins; undecodable bytes replaced)."""
    result: dict[str, str] = {}
    for name, value in raw or ():
        result[name] = "" if value is None else value.decode("utf-8", errors="replace")
    return result


@dataclass(frozen=True, slots=True)
class FailureInfo:
    """What went wrong, as written into the headers."""

    error_class: str
    message: str
    status: int | None = None
    action: str | None = None


def failure_headers(
    *,
    original_topic: str,
    original_partition: int,
    original_offset: int,
    original_timestamp_ms: int | None,
    attempt: int,
    first_failure_at_ms: int,
    direction: str,
    failure: FailureInfo,
    due_at_ms: int | None = None,
    secrets: Iterable[str] = (),
) -> list[tuple[str, bytes]]:
    """The full header set for a retry (with `due_at_ms`) or DLQ record."""
    return encode(
        {
            ORIGINAL_TOPIC: original_topic,
            ORIGINAL_PARTITION: original_partition,
            ORIGINAL_OFFSET: original_offset,
            ORIGINAL_TIMESTAMP: original_timestamp_ms,
            ATTEMPT: attempt,
            FIRST_FAILURE_AT: first_failure_at_ms,
            DUE_AT: due_at_ms,
            ERROR_CLASS: failure.error_class,
            ERROR_STATUS: failure.status,
            ERROR_MESSAGE: truncate(redact(failure.message, secrets)),
            DIRECTION: direction,
            ACTION: failure.action,
        }
    )
