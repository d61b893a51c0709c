"""Small HTTP helpers shared by the emulators: orjson responses and tolerant JSON parsing."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response


def json_response(data: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (the emulators' hot path)."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )


def raw_json_response(body: bytes, status: int = 200) -> Response:
    """A JSON response from pre-encoded bytes (constant success bodies)."""
    return Response(body, status_code=status, media_type="application/json")


class BadJSON(ValueError):
    """The body is not JSON, or not the JSON shape the route needs."""


def parse_object(body: bytes) -> dict[str, object]:
    """Parse a JSON object body, or raise BadJSON with a message fit for a 400 answer."""
    if not body:
        raise BadJSON("empty body: a JSON object is required")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadJSON(f"invalid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise BadJSON("the body must be a JSON object")
    return value


def decode_for_display(body: bytes) -> object:
    """Inspection view of a body: the JSON value when it parses, else text (truncated)."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:2000].decode("utf-8", "replace")
