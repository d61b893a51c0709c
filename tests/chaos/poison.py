"""Poison inputs for the inbound direction: each must end in the DLQ exactly once, never at Cordial.

Every kind is one record that cannot become a Cordial call (SPEC §3.5): not JSON, not UTF-8, a
JSON value that is not an object, wrong types, an unknown type, no identifier, an identifier
that is not an e-mail address, a value over 1 MiB, JSON nested deeper than any parser allows,
and properties nested deeper than a request body could be encoded. Each value carries its
number, so every poison record is distinct (the accounting recognises a DLQ record by its
original position, or by its unchanged bytes).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from .accounting import ProducedEvent

HUGE_BYTES = 1_100_000
"""Over the 1 MiB value limit of SPEC §3.5 (and under the 4 MiB the scenario lets Kafka carry)."""
DEEP_LEVELS = 5_000
"""Nesting far past any parser's limit (orjson stops at 1,024)."""
ENCODER_LEVELS = 300
"""Nesting a parser accepts but an encoder refuses (orjson writes at most 255 levels): the event
translates, and only the request body cannot be built."""


def _message(n: int, **fields: object) -> dict[str, object]:
    user = f"poison-{n}"
    return {
        "messageId": f"poison-{n}",
        "type": "track",
        "event": "Demo Step",
        "userId": user,
        "properties": {"poison": n},
        "context": {"traits": {"email": f"{user}@example.com"}},
        **fields,
    }


def _deep(n: int) -> bytes:
    return (b'{"a":' * DEEP_LEVELS) + str(n).encode() + (b"}" * DEEP_LEVELS)


def _deep_properties(n: int) -> bytes:
    nested = (b'{"a":' * ENCODER_LEVELS) + str(n).encode() + (b"}" * ENCODER_LEVELS)
    return orjson.dumps(_message(n, properties="NESTED")).replace(b'"NESTED"', nested)


KINDS: dict[str, Callable[[int], bytes]] = {
    "not_json": lambda n: b'{"type": "track", "poison": ' + str(n).encode() + b", oops",
    "not_utf8": lambda n: b"\xff\xfe" + str(n).encode() + b" \xc3\x28",
    "not_object": lambda n: orjson.dumps(["track", n]),
    "type_not_string": lambda n: orjson.dumps(_message(n, type=42)),
    "user_id_object": lambda n: orjson.dumps(_message(n, userId={"id": n})),
    "unknown_type": lambda n: orjson.dumps(_message(n, type="teleport")),
    "missing_identifier": lambda n: orjson.dumps(
        {"messageId": f"poison-{n}", "type": "track", "event": "Ghost", "properties": {"poison": n}}
    ),
    "email_not_email": lambda n: orjson.dumps(
        _message(n, context={"traits": {"email": f"not-an-email-{n}"}}, userId=f"poison-{n}")
    ),
    "huge_value": lambda n: orjson.dumps(_message(n, properties={"poison": n, "blob": "x" * HUGE_BYTES})),
    "deep_nesting": _deep,
    "deep_properties": _deep_properties,
}
"""Kind → value builder. Every kind is dead-lettered by the translator or the codec, once."""


def poison_events(count: int, *, offset: int = 0) -> list[ProducedEvent]:
    """`count` poison records, kinds cycled (so any count ≥ len(KINDS) covers every kind)."""
    names = list(KINDS)
    events = []
    for i in range(count):
        n = offset + i
        kind = names[i % len(names)]
        events.append(ProducedEvent(key=f"poison-{n}", seq=0, value=KINDS[kind](n), poison=True))
    return events


def kind_of(index: int) -> str:
    return list(KINDS)[index % len(KINDS)]
