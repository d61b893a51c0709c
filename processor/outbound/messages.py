"""What the outbound translator produces: one Segment message and its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutboundTranslation:
    """A Segment `track` message ready for `/v1/batch` (key order as sent).

    `dropped_keys` lists, once per loss, the property names that lost a collision (SPEC §4.2):
    flattened keys beaten by a top-level key, an e-mail semantic key or an earlier flattened
    key, and semantic keys beaten by a top-level record key; the caller counts them.
    `event_id` is Cordial's `_id` when the record has one, else the `messageId`.
    `encoded` is `orjson.dumps(message)`, the exact bytes the translator measured against
    `message_max_bytes`, so a sink can send them without serialising the message again (empty
    when the translation was built elsewhere, e.g. by hand in a test: encode `message` then).
    """

    message: dict[str, object]
    event_id: str
    channel: str
    dropped_keys: tuple[str, ...] = ()
    encoded: bytes = b""
