"""Segment spec messages: their shape and the structural checks made before anything else.

A message is a JSON object with a string `type` among the six Segment calls. `userId` and
`anonymousId`, when present, are strings or numbers (numbers are sent as strings). Everything
else is checked where it is used: a mapped field of the wrong type is a validation error of
that action only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, TypedDict

from processor.errors import ErrorClass
from processor.inbound.exceptions import TranslationError

MESSAGE_TYPES: Final = frozenset({"identify", "track", "page", "screen", "group", "alias"})
_ID_KEYS: Final = ("userId", "anonymousId")
MAX_DEPTH: Final = 100
"""Deepest nesting accepted. The JSON encoder stops at 255 levels, and a request body (plus the
`translate` output around it) nests message parts a few levels deeper than the message itself."""


class SegmentMessage(TypedDict, total=False):
    """The fields of a Segment spec message this package reads (all optional on the wire)."""

    type: str
    messageId: str
    userId: str
    anonymousId: str
    previousId: str
    groupId: str
    event: str
    name: str
    timestamp: str
    traits: dict[str, object]
    properties: dict[str, object]
    context: dict[str, object]


def check_message(value: object) -> Mapping[str, object]:
    """`value` as a message, or TranslationError (`invalid_message` / `unknown_type`)."""
    if not isinstance(value, dict):
        raise TranslationError(
            ErrorClass.INVALID_MESSAGE, f"a Segment message is a JSON object, got {_kind(value)}"
        )
    kind = value.get("type")
    if not isinstance(kind, str):
        got = "no type" if "type" not in value else f"type {_kind(kind)}"
        raise TranslationError(ErrorClass.INVALID_MESSAGE, f"a Segment message has a string type, got {got}")
    if kind not in MESSAGE_TYPES:
        shown = kind if len(kind) <= 40 else kind[:37] + "..."
        raise TranslationError(
            ErrorClass.UNKNOWN_TYPE,
            f"unknown message type {shown!r} (known: {', '.join(sorted(MESSAGE_TYPES))})",
        )
    if _deeper(value.values(), 1, MAX_DEPTH) if type(value) is dict else False:  # nested_deeper_than
        raise TranslationError(
            ErrorClass.INVALID_MESSAGE, f"message is nested deeper than {MAX_DEPTH} levels"
        )
    for key in _ID_KEYS:
        ident = value.get(key)
        if ident is None or type(ident) is str:
            continue
        if isinstance(ident, bool) or not isinstance(ident, str | int | float):
            raise TranslationError(
                ErrorClass.INVALID_MESSAGE, f"{key} must be a string or a number, got {_kind(ident)}"
            )
    return value


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether objects/lists nest more than `limit` levels.

    Recursive, but never deeper than `limit` calls (it stops there), so a hostile message cannot
    reach the interpreter's recursion limit; a call per container is cheaper than a work stack.
    """
    kind = type(value)
    if kind is dict:
        return _deeper(value.values(), 1, limit)  # type: ignore[attr-defined]
    if kind is list:
        return _deeper(value, 1, limit)  # type: ignore[arg-type]
    return False


def _deeper(children: Iterable[object], depth: int, limit: int) -> bool:
    """Whether a container among `children` (of a container at `depth`) nests past `limit`."""
    for child in children:
        kind = type(child)
        if kind is dict:
            if depth >= limit or _deeper(child.values(), depth + 1, limit):  # type: ignore[attr-defined]
                return True
        elif kind is list and (depth >= limit or _deeper(child, depth + 1, limit)):  # type: ignore[arg-type]
            return True
    return False


def is_from_cordial(message: Mapping[str, object]) -> bool:
    """`context.source == "cordial"`: the bridge's own outbound traffic coming back (SPEC §4.3)."""
    context = message.get("context")
    return isinstance(context, dict) and context.get("source") == "cordial"


def event_id(message: Mapping[str, object]) -> str | None:
    """The Segment messageId, when it is a non-empty string."""
    message_id = message.get("messageId")
    return message_id if isinstance(message_id, str) and message_id else None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
