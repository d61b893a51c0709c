"""Who the event is about and when it happened: ids, the deterministic messageId, the timestamp.

* `userId` is the contact's Segment id: the attribute named by `segment_id_key`, looked up at
  the top level of the record, then in `attributes`, then in `contact.attributes` (the shapes a
  Cordial record carries contact attributes in); the first non-empty value wins.
* `messageId` is `cordial-<_id>` so that a replay or retry of the same Cordial event is
  de-duplicated by Segment; a record without `_id` gets `cordial-sha256-<hash>` of its canonical
  JSON (keys sorted), so the same record still always gets the same id.
* `timestamp` is `time` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds truncated).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Final

import orjson

from processor.errors import ErrorClass
from processor.outbound.flatten import Path
from processor.outbound.record import TranslationError, describe_type, optional_text
from processor.outbound.semantic import lookup

MESSAGE_ID_PREFIX: Final = "cordial-"
HASH_PREFIX: Final = "cordial-sha256-"
HASH_CHARS: Final = 32
"""128 bits of SHA-256: collisions are not a practical concern at any event volume."""

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECONDS_ABOVE: Final = 100_000_000_000
"""An epoch number at least this large is milliseconds (as seconds it would be the year 5138)."""


def user_id_paths(segment_id_key: str) -> tuple[Path, ...]:
    """Where the Segment id attribute is looked for, in order."""
    return ((segment_id_key,), ("attributes", segment_id_key), ("contact", "attributes", segment_id_key))


def find_user_id(record: Mapping[str, object], paths: tuple[Path, ...]) -> str | None:
    """The first non-empty Segment id along `paths`; a non-string value is a `validation` error."""
    for path in paths:
        parent = lookup(record, path[:-1]) if len(path) > 1 else record
        # None first, then `type(...) is dict`: the Mapping ABC check is slow.
        if parent is None or (type(parent) is not dict and not isinstance(parent, Mapping)):
            continue
        value = optional_text(parent, str(path[-1]))
        if value is not None:
            return value
    return None


def cordial_event_id(record: Mapping[str, object]) -> str | None:
    """Cordial's own event id (`_id`: a non-empty string, or an integer), else None."""
    value = record.get("_id")
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def message_id(record: Mapping[str, object]) -> str:
    """Deterministic: the same record always gives the same id, different records different ids."""
    cordial_id = cordial_event_id(record)
    if cordial_id is not None:
        return MESSAGE_ID_PREFIX + cordial_id
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return HASH_PREFIX + hashlib.sha256(canonical).hexdigest()[:HASH_CHARS]


def format_timestamp(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ`; a naive datetime is taken as UTC (Cordial stores UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # Zero-padded fields from tables: the same text as format specs (`{:02d}`), in half the time.
    year = utc.year
    return (
        f"{year if year >= 1000 else f'{year:04d}'}-{_TWO_DIGITS[utc.month]}-{_TWO_DIGITS[utc.day]}"
        f"T{_TWO_DIGITS[utc.hour]}:{_TWO_DIGITS[utc.minute]}:{_TWO_DIGITS[utc.second]}"
        f".{_THREE_DIGITS[utc.microsecond // 1000]}Z"
    )


_TWO_DIGITS: Final = tuple(f"{number:02d}" for number in range(100))
_THREE_DIGITS: Final = tuple(f"{number:03d}" for number in range(1000))


def _from_epoch(value: int | float) -> datetime:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    # Decimal(repr) keeps the digits as written, so 1634919108.54 is 540 ms, not 539.
    amount = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    millis = amount if abs(amount) >= MILLISECONDS_ABOVE else amount * 1000
    return EPOCH + timedelta(milliseconds=int(millis.to_integral_value(rounding=ROUND_FLOOR)))


def normalise_timestamp(value: object) -> str | None:
    """The record's `time` as Segment's timestamp; None when absent (null or `""`).

    Accepts ISO-8601 strings with `+0000`, `+00:00`, `Z`, other offsets or none (UTC), with or
    without fractional seconds, and epoch numbers in seconds or milliseconds. Anything else is
    a `validation` error.
    """
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            return format_timestamp(datetime.fromisoformat(value.strip()))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_timestamp(_from_epoch(value))
    except (ValueError, OverflowError, InvalidOperation) as exc:
        raise TranslationError(ErrorClass.VALIDATION, f"`time` is not a usable timestamp: {exc}") from exc
    raise TranslationError(
        ErrorClass.VALIDATION,
        f"`time` must be an ISO-8601 string or an epoch number, got {describe_type(value)}",
    )
