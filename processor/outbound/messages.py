"""What the outbound translator produces: one Segment message and its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass

from processor.slots import slot_setter


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        message: dict[str, object],
        event_id: str,
        channel: str,
        dropped_keys: tuple[str, ...] = (),
        encoded: bytes = b"",
    ) -> None:  # hand-written: built once per record (processor/slots.py)
        _message(self, message)
        _event_id(self, event_id)
        _channel(self, channel)
        _dropped_keys(self, dropped_keys)
        _encoded(self, encoded)


_message = slot_setter(OutboundTranslation, "message")
_event_id = slot_setter(OutboundTranslation, "event_id")
_channel = slot_setter(OutboundTranslation, "channel")
_dropped_keys = slot_setter(OutboundTranslation, "dropped_keys")
_encoded = slot_setter(OutboundTranslation, "encoded")
