"""What the outbound translator produces: one Segment message and its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutboundTranslation:
    """A Segment `track` message ready for `/v1/batch` (key order as sent).

    `dropped_keys` lists flattened property keys that lost a collision (SPEC §4.2); the
    caller counts them.
    """

    message: dict[str, object]
    event_id: str
    channel: str
    dropped_keys: tuple[str, ...] = ()
