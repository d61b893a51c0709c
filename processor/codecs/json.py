"""JSON values: bytes ⇄ object, with the size guard of SPEC §3.5 (values over 1 MiB are rejected)."""

from __future__ import annotations

from typing import Final

import orjson

from processor.errors import ErrorClass
from processor.outcomes import Rejected

MAX_VALUE_BYTES: Final = 1_048_576


def decode_json(value: bytes | None, *, max_bytes: int = MAX_VALUE_BYTES) -> object | Rejected:
    """Parse one record value. Never raises: bad input comes back as `Rejected`."""
    if value is None:
        return Rejected(ErrorClass.INVALID_JSON, "record has no value (tombstone)")
    if len(value) > max_bytes:
        return Rejected(
            ErrorClass.MESSAGE_TOO_LARGE, f"value is {len(value)} bytes, over the {max_bytes}-byte limit"
        )
    try:
        parsed: object = orjson.loads(value)
        return parsed
    except orjson.JSONDecodeError as exc:
        return Rejected(ErrorClass.INVALID_JSON, f"not JSON: {exc}")


def encode_json(obj: object) -> bytes:
    """Compact JSON, keys in insertion order (the wire order of every body we build)."""
    return orjson.dumps(obj)
